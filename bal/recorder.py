"""The EIP-7928 recorder: the block access list a block really produces.

The account database (:class:`client.account_db.StoreAccountDB`) feeds a
:class:`BalRecorder` while a block executes, once ``start_recording`` is
called on it:

* **touches** — every address an account read or write names (balance, nonce,
  code, code hash, existence / emptiness checks, touch, delete, storage
  writes). Warm/cold bookkeeping never touches. Touches survive reverts.
* **storage reads** — every current-value read ``get_storage(from_journal=True)``
  and every storage write (each write path reads first). Original-value reads
  (``from_journal=False``) are not recorded. Reads survive reverts.
* **changes** — at the end of each ``blockAccessIndex`` unit (0 = pre-execution
  system calls, i = transaction i, n+1 = post-execution) the database hands
  :meth:`BalRecorder.record_unit` the before and after value of everything
  the unit wrote; only values that differ become changes. A missing account
  counts as balance 0, nonce 0, empty code. The written storage of an account
  destroyed in the unit is not a change (it stays a read).

:meth:`BalRecorder.build` returns the canonical, sorted
:class:`bal.types.BlockAccessList`; :meth:`BalRecorder.compare` raises the
first difference between it and a given BAL as a :mod:`bal.mismatch` error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Protocol

from .mismatch import (
    BalMismatch,
    ExtraAccount,
    ExtraChange,
    ExtraStorageRead,
    MissingAccount,
    MissingChange,
    MissingStorageRead,
    WrongPostValue,
)
from .types import (
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    SlotChanges,
    StorageChange,
)


class AccountState(Protocol):
    """An account as the database sees it; a missing account is passed as (0, 0, empty code)."""

    @property
    def balance(self) -> int: ...

    @property
    def nonce(self) -> int: ...

    @property
    def code_hash(self) -> bytes: ...


class IndexOrderError(ValueError):
    """Units were closed out of order: each blockAccessIndex is closed once, ascending."""


class BalRecorder:
    """Collects touches, reads and per-index changes of one block; builds its BAL."""

    __slots__ = (
        "touched", "reads", "_balances", "_nonces", "_codes", "_storage", "_last_index", "_opened_after"
    )

    def __init__(self, after_index: int = -1) -> None:
        """``after_index``: the units up to it are recorded elsewhere (the next closed must be later)."""
        # Filled directly by the account database (hot path: plain set.add).
        self.touched: set[bytes] = set()
        self.reads: set[tuple[bytes, int]] = set()
        # address -> index -> post value; address -> slot -> index -> post value
        self._balances: dict[bytes, dict[int, int]] = {}
        self._nonces: dict[bytes, dict[int, int]] = {}
        self._codes: dict[bytes, dict[int, bytes]] = {}
        self._storage: dict[bytes, dict[int, dict[int, int]]] = {}
        self._opened_after = self._last_index = after_index

    # -- feeding ----------------------------------------------------------------

    def touch(self, address: bytes) -> None:
        self.touched.add(address)

    def read_storage(self, address: bytes, slot: int) -> None:
        self.reads.add((address, slot))

    @property
    def last_index(self) -> int:
        """The last blockAccessIndex closed, or -1 before the first."""
        return self._last_index

    def record_unit(
        self,
        index: int,
        accounts: Mapping[bytes, tuple[AccountState, AccountState]],
        storage: Mapping[tuple[bytes, int], tuple[int, int]],
        code_of: Callable[[bytes], bytes],
        destroyed: Collection[bytes] = (),
    ) -> None:
        """Close unit ``index``: keep every (before, after) pair whose values differ.

        ``accounts`` maps each account the unit wrote to its state before the
        unit and after it; ``storage`` maps each (address, slot) the unit wrote
        to its value before and after. ``code_of`` turns a code hash into the
        code bytes (called only for a code that changed). The storage writes of
        ``destroyed`` accounts (gone at the end of the unit, having been deleted
        in it) are not changes.
        """
        if index <= self._last_index:
            raise IndexOrderError(
                f"blockAccessIndex {index} closed after {self._last_index}: "
                "each index is closed once, in ascending order"
            )
        self._last_index = index
        for address, (before, after) in accounts.items():
            self.touched.add(address)
            if before.balance != after.balance:
                self._balances.setdefault(address, {})[index] = after.balance
            if before.nonce != after.nonce:
                self._nonces.setdefault(address, {})[index] = after.nonce
            if before.code_hash != after.code_hash:
                self._codes.setdefault(address, {})[index] = code_of(after.code_hash)
        for (address, slot), (before_value, after_value) in storage.items():
            self.touched.add(address)
            self.reads.add((address, slot))
            if before_value != after_value and address not in destroyed:
                self._storage.setdefault(address, {}).setdefault(slot, {})[index] = after_value

    def absorb(self, later: BalRecorder) -> None:
        """Take in what ``later`` recorded: the units right after the last one closed here.

        A block executed in parts (its later transactions in another process)
        has one recorder per part; ``later`` must have been opened right after
        this one's last closed unit (``BalRecorder(after_index=...)``). Merged,
        they hold what one recorder of the whole block would.
        """
        if later._opened_after != self._last_index:
            raise IndexOrderError(
                f"the absorbed recorder starts after blockAccessIndex {later._opened_after}, "
                f"this one closed {self._last_index}"
            )
        self.touched |= later.touched
        self.reads |= later.reads
        for mine, theirs in (
            (self._balances, later._balances),
            (self._nonces, later._nonces),
            (self._codes, later._codes),
        ):
            for address, by_index in theirs.items():
                mine.setdefault(address, {}).update(by_index)  # type: ignore[attr-defined]
        for address, slots in later._storage.items():
            my_slots = self._storage.setdefault(address, {})
            for slot, by_index in slots.items():
                my_slots.setdefault(slot, {}).update(by_index)
        self._last_index = later._last_index

    # -- the result ---------------------------------------------------------------

    def build(self) -> BlockAccessList:
        """The canonical BAL: accounts, slots, reads and indices all ascending."""
        reads: dict[bytes, set[int]] = {}
        for address, slot in self.reads:
            reads.setdefault(address, set()).add(slot)
        addresses = (
            self.touched
            | reads.keys()
            | self._balances.keys()
            | self._nonces.keys()
            | self._codes.keys()
            | self._storage.keys()
        )
        accounts = []
        for address in sorted(addresses):
            changed = self._storage.get(address, {})
            accounts.append(
                AccountChanges(
                    address=address,
                    storage_changes=tuple(
                        SlotChanges(slot, tuple(StorageChange(i, v) for i, v in sorted(by_index.items())))
                        for slot, by_index in sorted(changed.items())
                    ),
                    storage_reads=tuple(sorted(reads.get(address, set()) - changed.keys())),
                    balance_changes=tuple(
                        BalanceChange(i, v) for i, v in sorted(self._balances.get(address, {}).items())
                    ),
                    nonce_changes=tuple(
                        NonceChange(i, v) for i, v in sorted(self._nonces.get(address, {}).items())
                    ),
                    code_changes=tuple(
                        CodeChange(i, v) for i, v in sorted(self._codes.get(address, {}).items())
                    ),
                )
            )
        return BlockAccessList(tuple(accounts))

    def explain(self, given: BlockAccessList) -> BalMismatch | None:
        """The first difference between ``given`` and the recorded BAL, or None."""
        return first_difference(self.build(), given)

    def compare(self, given: BlockAccessList) -> None:
        """Raise the first difference between ``given`` and the recorded BAL."""
        mismatch = self.explain(given)
        if mismatch is not None:
            raise mismatch


# -- comparison ---------------------------------------------------------------------


def _hex(value: bytes | int) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else hex(value)


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes of code" if len(value) > 32 else _hex(value) if value else "empty code"
    if isinstance(value, int):
        return _hex(value)
    return repr(value)


def _by_index(changes: Iterable[tuple[int, object]]) -> dict[int, object]:
    return dict(changes)


def _compare_changes(
    address: bytes,
    field: str,
    where: str,
    executed: Mapping[int, object],
    given: Mapping[int, object],
    slot: int | None = None,
) -> BalMismatch | None:
    for index in sorted(executed.keys() | given.keys()):
        mine, theirs = executed.get(index, _ABSENT), given.get(index, _ABSENT)
        if mine == theirs:
            continue
        at = f"{where}[index {index}]"
        details = dict(address=address, field=field, slot=slot, index=index)
        if theirs is _ABSENT:
            return MissingChange(
                f"execution changes {field} to {_show(mine)} at index {index}; the BAL has no such change",
                at,
                executed=mine,
                **details,  # type: ignore[arg-type]
            )
        if mine is _ABSENT:
            return ExtraChange(
                f"the BAL changes {field} to {_show(theirs)} at index {index}; "
                "execution changes nothing there",
                at,
                given=theirs,
                **details,  # type: ignore[arg-type]
            )
        return WrongPostValue(
            f"{field} after index {index} is {_show(mine)}, the BAL says {_show(theirs)}",
            at,
            executed=mine,
            given=theirs,
            **details,  # type: ignore[arg-type]
        )
    return None


_ABSENT = object()


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
