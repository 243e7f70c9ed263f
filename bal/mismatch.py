"""How a given block access list differs from the executed one.

A BAL handed to the pipeline is only a claim (pipeline.md §3): the join
compares it with the BAL the execution really produced (built by
:class:`bal.recorder.BalRecorder`) through :func:`first_difference` and, on
any difference, rejects the block with the exception it returns. Each names
the first difference found, in the style of :mod:`bal.errors`: a stable
``rule``, a ``where`` naming the account (and slot / field / index), and the
two sides as attributes.

"Missing" means the execution has it and the given BAL does not; "extra"
means the given BAL claims it and the execution does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import BalError
from .types import AccountChanges, BlockAccessList


class BalMismatch(BalError):
    """The given BAL is well formed but is not the BAL the block produces."""

    rule = "bal-mismatch"

    def __init__(
        self,
        message: str,
        where: str = "",
        *,
        address: bytes | None = None,
        field: str | None = None,
        slot: int | None = None,
        index: int | None = None,
        executed: object = None,
        given: object = None,
    ) -> None:
        self.address = address
        self.field = field
        self.slot = slot
        self.index = index
        self.executed = executed
        self.given = given
        super().__init__(message, where)


class MissingAccount(BalMismatch):
    """Execution touched an account the given BAL does not list."""

    rule = "missing-account"


class ExtraAccount(BalMismatch):
    """The given BAL lists an account the execution never touched."""

    rule = "extra-account"


class MissingStorageRead(BalMismatch):
    """Execution read a slot (without changing it) that the given BAL does not list as read."""

    rule = "missing-storage-read"


class ExtraStorageRead(BalMismatch):
    """The given BAL lists a storage read the execution never made (or a slot it changed)."""

    rule = "extra-storage-read"


class MissingChange(BalMismatch):
    """Execution changed a field (storage slot, balance, nonce, code) at an index the BAL omits."""

    rule = "missing-change"


class ExtraChange(BalMismatch):
    """The given BAL claims a change at an index where the execution changed nothing."""

    rule = "extra-change"


class WrongPostValue(BalMismatch):
    """Both sides change the field at this index, to different post-values."""

    rule = "wrong-post-value"


# -- comparison ---------------------------------------------------------------------


def _hex(value: bytes | int) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else hex(value)


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes of code" if len(value) > 32 else _hex(value) if value else "empty code"
    if isinstance(value, int):
        return _hex(value)
    return repr(value)


# A post value (int, or bytes of code) by blockAccessIndex.
PostValues = Mapping[int, int | bytes]

# Stands for "no change at this index" on one side.
_ABSENT = object()


def _compare_changes(
    address: bytes,
    field: str,
    where: str,
    executed: PostValues,
    given: PostValues,
    slot: int | None = None,
) -> BalMismatch | None:
    for index in sorted(executed.keys() | given.keys()):
        mine, theirs = executed.get(index, _ABSENT), given.get(index, _ABSENT)
        if mine == theirs:
            continue
        at = f"{where}[index {index}]"
        if theirs is _ABSENT:
            return MissingChange(
                f"execution changes {field} to {_show(mine)} at index {index}; the BAL has no such change",
                at,
                address=address, field=field, slot=slot, index=index, executed=mine,
            )
        if mine is _ABSENT:
            return ExtraChange(
                f"the BAL changes {field} to {_show(theirs)} at index {index}; "
                "execution changes nothing there",
                at,
                address=address, field=field, slot=slot, index=index, given=theirs,
            )
        return WrongPostValue(
            f"{field} after index {index} is {_show(mine)}, the BAL says {_show(theirs)}",
            at,
            address=address, field=field, slot=slot, index=index, executed=mine, given=theirs,
        )
    return None


def _by_index(changes: Iterable[tuple[int, int | bytes]]) -> dict[int, int | bytes]:
    return dict(changes)


def _compare_account(executed: AccountChanges, given: AccountChanges) -> BalMismatch | None:
    address = executed.address
    base = _hex(address)
    mine_slots = {sc.slot: _by_index((c.block_access_index, c.post_value) for c in sc.changes)
                  for sc in executed.storage_changes}
    their_slots = {sc.slot: _by_index((c.block_access_index, c.post_value) for c in sc.changes)
                   for sc in given.storage_changes}
    for slot in sorted(mine_slots.keys() | their_slots.keys()):
        found = _compare_changes(
            address,
            f"storage slot {_hex(slot)}",
            f"{base}.storageChanges[slot {_hex(slot)}]",
            mine_slots.get(slot, {}),
            their_slots.get(slot, {}),
            slot=slot,
        )
        if found is not None:
            return found
    mine_reads, their_reads = set(executed.storage_reads), set(given.storage_reads)
    for slot in sorted(mine_reads ^ their_reads):
        where = f"{base}.storageReads[slot {_hex(slot)}]"
        if slot in mine_reads:
            return MissingStorageRead(
                f"execution reads slot {_hex(slot)}; the BAL does not list the read",
                where, address=address, field="storage read", slot=slot,
            )
        return ExtraStorageRead(
            f"the BAL lists a read of slot {_hex(slot)}; execution never read it without changing it",
            where, address=address, field="storage read", slot=slot,
        )
    for field, name, mine, theirs in (
        (
            "balance",
            "balanceChanges",
            _by_index((c.block_access_index, c.post_balance) for c in executed.balance_changes),
            _by_index((c.block_access_index, c.post_balance) for c in given.balance_changes),
        ),
        (
            "nonce",
            "nonceChanges",
            _by_index((c.block_access_index, c.post_nonce) for c in executed.nonce_changes),
            _by_index((c.block_access_index, c.post_nonce) for c in given.nonce_changes),
        ),
        (
            "code",
            "codeChanges",
            _by_index((c.block_access_index, c.new_code) for c in executed.code_changes),
            _by_index((c.block_access_index, c.new_code) for c in given.code_changes),
        ),
    ):
        found = _compare_changes(address, field, f"{base}.{name}", mine, theirs)
        if found is not None:
            return found
    return None


def first_difference(executed: BlockAccessList, given: BlockAccessList) -> BalMismatch | None:
    """The first way ``given`` differs from ``executed``, or None if they are equal.

    Accounts are visited in ascending address order; the first address only
    one side lists is a missing / extra account. Within an account: storage
    changes (slots ascending, then indices), storage reads, balance, nonce and
    code changes. ``given`` should have passed ``validate_structure`` (its
    entries are compared as sets and maps, not positions).
    """
    mine = {a.address: a for a in executed.accounts}
    theirs = {a.address: a for a in given.accounts}
    for address in sorted(mine.keys() | theirs.keys()):
        where = _hex(address)
        if address not in theirs:
            return MissingAccount(
                f"execution touches account {where}; the BAL does not list it", where, address=address
            )
        if address not in mine:
            return ExtraAccount(
                f"the BAL lists account {where}; execution never touches it", where, address=address
            )
        found = _compare_account(mine[address], theirs[address])
        if found is not None:
            return found
    return None
