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
:class:`bal.types.BlockAccessList`; :meth:`BalRecorder.matches` tells whether
a given BAL is that one without building it, and
:func:`bal.mismatch.first_difference` names the first way a given BAL differs
from it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from operator import attrgetter
from typing import Any, Protocol, TypeVar

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
        _merge_by_index(self._balances, later._balances)
        _merge_by_index(self._nonces, later._nonces)
        _merge_by_index(self._codes, later._codes)
        for address, slots in later._storage.items():
            _merge_by_index(self._storage.setdefault(address, {}), slots)
        self._last_index = later._last_index

    # -- the result ---------------------------------------------------------------

    def _reads_and_addresses(self) -> tuple[dict[bytes, set[int]], set[bytes]]:
        """The slots read, by address, and every address the BAL lists."""
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
        return reads, addresses

    def build(self) -> BlockAccessList:
        """The canonical BAL: accounts, slots, reads and indices all ascending."""
        reads, addresses = self._reads_and_addresses()
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

    def matches(self, bal: BlockAccessList) -> bool:
        """Whether :meth:`build` would return a BAL equal to ``bal``, without building it.

        Every block that comes with a BAL is checked this way: building the
        canonical BAL makes a frozen object for each account, slot and change
        (about 4 ms for a 200-transaction block) only to compare them with the
        given ones. This walks the given BAL once against what was recorded.
        ``bal`` must be made of :mod:`bal.types` (what ``decode_bal`` gives).
        """
        reads, addresses = self._reads_and_addresses()
        if len(bal.accounts) != len(addresses):
            return False
        previous = b""
        for account in bal.accounts:
            address = account.address
            # Strictly ascending, each recorded, as many as recorded: exactly the sorted addresses.
            if address <= previous or address not in addresses:
                return False
            previous = address
            changed = self._storage.get(address, _NOTHING)
            if not (
                _same_slot_changes(account.storage_changes, changed)
                and _same_reads(account.storage_reads, reads.get(address, set()), changed)
                and _same_by_index(account.balance_changes, self._balances.get(address, _NOTHING), _BALANCE)
                and _same_by_index(account.nonce_changes, self._nonces.get(address, _NOTHING), _NONCE)
                and _same_by_index(account.code_changes, self._codes.get(address, _NOTHING), _CODE)
            ):
                return False
        return True


Key = TypeVar("Key")
PostValue = TypeVar("PostValue")


def _merge_by_index(
    mine: dict[Key, dict[int, PostValue]], theirs: Mapping[Key, Mapping[int, PostValue]]
) -> None:
    """Add ``theirs`` (key -> index -> post value) into ``mine``; the indices do not overlap."""
    for key, by_index in theirs.items():
        mine.setdefault(key, {}).update(by_index)


_NOTHING: Mapping[Any, Any] = {}
_POST_VALUE = attrgetter("post_value")
_BALANCE = attrgetter("post_balance")
_NONCE = attrgetter("post_nonce")
_CODE = attrgetter("new_code")


def _same_by_index(
    changes: Sequence[Any], by_index: Mapping[int, Any], value_of: Callable[[Any], Any]
) -> bool:
    """Whether ``changes`` list ``by_index``'s items by ascending index, as :meth:`BalRecorder.build` does."""
    if len(changes) != len(by_index):
        return False
    previous = -1
    for change in changes:
        index = change.block_access_index
        if index <= previous or index not in by_index or by_index[index] != value_of(change):
            return False
        previous = index
    return True


def _same_slot_changes(slot_changes: Sequence[SlotChanges], changed: Mapping[int, Mapping[int, int]]) -> bool:
    """Whether ``slot_changes`` list the changed slots ascending, each with its changes."""
    if len(slot_changes) != len(changed):
        return False
    previous = -1
    for slot_change in slot_changes:
        slot = slot_change.slot
        if slot <= previous or slot not in changed:
            return False
        if not _same_by_index(slot_change.changes, changed[slot], _POST_VALUE):
            return False
        previous = slot
    return True


def _same_reads(given: Sequence[int], read: set[int], changed: Mapping[int, object]) -> bool:
    """Whether ``given`` lists, ascending, the slots read and not changed."""
    if len(given) > len(read):
        return False
    previous = -1
    for slot in given:
        if slot <= previous or slot not in read or slot in changed:
            return False
        previous = slot
    # Each listed slot is read and unchanged, and they are distinct: now the counts must agree.
    return len(given) == len(read) - sum(1 for slot in read if slot in changed)
