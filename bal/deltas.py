"""Synthesis of per-account state deltas from a block access list.

The BAL holds the post-value of every field a block changed, tagged with the
index of the transaction that changed it; the value with the highest index is
the field's value after the block. A delta keeps each field only if the BAL
changes it (pipeline.md §3, "per-field optionals"): a balance-only recipient
gets ``nonce=None`` and ``code=None``, never a fabricated zero nonce or empty
code, because those would overwrite the parent's real values.

Deltas are also the common currency of the merkleizer: genesis allocations and
(later) execution diffs are turned into the same type, so one merkleizer serves
every path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .types import AccountChanges, BlockAccessList

_EMPTY: Mapping[int, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AccountDelta:
    """What a block sets for one account; ``None`` means "unchanged"."""

    address: bytes
    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    # slot -> value after the block; 0 means the slot is deleted.
    storage: Mapping[int, int] = field(default_factory=lambda: _EMPTY)
    # The parent's storage is discarded before ``storage`` applies. Execution
    # sets it when an account is destroyed; a BAL never does (rule 2 of
    # pipeline.md §3: removal follows from the post-values alone).
    storage_cleared: bool = False

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle (for the merkleizer's worker processes) with the storage view as a plain dict."""
        return (
            _delta_from_plain,
            (self.address, self.balance, self.nonce, self.code, dict(self.storage), self.storage_cleared),
        )

    def is_noop(self) -> bool:
        return (
            self.balance is None
            and self.nonce is None
            and self.code is None
            and not self.storage
            and not self.storage_cleared
        )


def _delta_from_plain(
    address: bytes,
    balance: int | None,
    nonce: int | None,
    code: bytes | None,
    storage: dict[int, int],
    storage_cleared: bool,
) -> AccountDelta:
    return AccountDelta(address, balance, nonce, code, MappingProxyType(storage), storage_cleared)


def delta_from_account_changes(account: AccountChanges) -> AccountDelta:
    """The last post-value of each field the account's changes mention."""
    return AccountDelta(
        address=account.address,
        balance=account.balance_changes[-1].post_balance if account.balance_changes else None,
        nonce=account.nonce_changes[-1].post_nonce if account.nonce_changes else None,
        code=account.code_changes[-1].new_code if account.code_changes else None,
        storage=MappingProxyType(
            {sc.slot: sc.changes[-1].post_value for sc in account.storage_changes if sc.changes}
        ),
    )


def synthesize_deltas(bal: BlockAccessList) -> tuple[AccountDelta, ...]:
    """Deltas for every account the BAL changes; read-only accounts give none.

    Assumes ``bal`` passed structural validation (indices ascending), so the
    last entry of each change list is the final value.
    """
    deltas = (delta_from_account_changes(a) for a in bal.accounts)
    return tuple(d for d in deltas if not d.is_noop())
