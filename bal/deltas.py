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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from .types import (
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    StorageChange,
)

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


def delta_from_account_changes(account: AccountChanges, through_index: int | None = None) -> AccountDelta:
    """The last post-value of each field the account's changes mention (at or before ``through_index``)."""
    storage = {}
    for sc in account.storage_changes:
        value = _last_through(sc.changes, through_index)
        if value is not None:
            storage[sc.slot] = value.post_value
    balance = _last_through(account.balance_changes, through_index)
    nonce = _last_through(account.nonce_changes, through_index)
    code = _last_through(account.code_changes, through_index)
    return AccountDelta(
        address=account.address,
        balance=None if balance is None else balance.post_balance,
        nonce=None if nonce is None else nonce.post_nonce,
        code=None if code is None else code.new_code,
        storage=MappingProxyType(storage),
    )


_Change = TypeVar("_Change", BalanceChange, NonceChange, CodeChange, StorageChange)


def _last_through(changes: Sequence[_Change], through_index: int | None) -> _Change | None:
    """The last change at an index <= ``through_index`` (any index if None; ``changes`` ascending)."""
    if through_index is None:
        return changes[-1] if changes else None
    found = None
    for change in changes:
        if change.block_access_index > through_index:
            break
        found = change
    return found


def synthesize_deltas(bal: BlockAccessList, through_index: int | None = None) -> tuple[AccountDelta, ...]:
    """Deltas for every account the BAL changes; read-only accounts give none.

    With ``through_index``, only the changes at that ``blockAccessIndex`` or
    before count: the state the BAL claims right after it (what a second
    process starts from when it executes the block's later transactions).
    Assumes ``bal`` passed structural validation (indices ascending), so the
    last entry of each change list is the final value.

    The whole block's deltas are synthesized once and then kept on ``bal``:
    the same tuple each time, so callers holding two results compare them by
    identity at no cost (``pipeline.merkle_workers``: the merkleization started
    ahead of a block is claimed only for the deltas it was started with).
    """
    if through_index is not None:
        return _synthesize(bal, through_index)
    deltas = bal._deltas
    if deltas is None:
        deltas = _synthesize(bal, None)
        object.__setattr__(bal, "_deltas", deltas)  # the dataclass is frozen; its cache is not
    return deltas


def _synthesize(bal: BlockAccessList, through_index: int | None) -> tuple[AccountDelta, ...]:
    deltas = (delta_from_account_changes(a, through_index) for a in bal.accounts)
    return tuple(d for d in deltas if not d.is_noop())
