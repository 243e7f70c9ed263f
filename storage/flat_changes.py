"""A block's changes to the flat state, kept so that the flat state can move between blocks.

The flat state holds the post-state of one block (``FLAT_STATE_BLOCK``), the
head fork choice chose. Importing a block does not touch it: the block's batch
stores the block's :class:`FlatChanges` (``Space.FLAT_CHANGES``: the key
writes its state changes make, and the accounts whose storage it clears).
Fork choice moves the flat state along the chain in one batch: forward by
applying blocks' changes, backward (a reorg) by writing back what they
overwrote. Applying a block's changes returns exactly that, its *undo*
(``Space.FLAT_UNDO``, encoded), so a block can be undone as long as its undo is kept.

:class:`FlatStateEditor` stages those writes into a batch and reads through
them, so that several blocks can be applied or undone in one batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from bal.rlp_items import RlpDecodeError, RlpItem, read_rlp, rlp_list, rlp_string

from .state import EMPTY_ROOT, AccountRecord, StateWrites, int_bytes, storage_key
from .store import Space, Store, WriteBatch

# The key spaces the flat state is made of.
FLAT_SPACES = (Space.ACCOUNT, Space.STORAGE)

# One key write: (space, key, value), a value of None deleting the key.
KeyWrite = tuple[Space, bytes, bytes | None]


class ParentState(Protocol):
    """Reads of the state a block ran on (the pipeline's ``StateSource``)."""

    def account(self, address: bytes) -> AccountRecord | None: ...

    def storage(self, address: bytes, slot: int) -> int: ...


class NoState:
    """The state before genesis: empty."""

    def account(self, address: bytes) -> AccountRecord | None:
        return None

    def storage(self, address: bytes, slot: int) -> int:
        return 0


@dataclass(frozen=True)
class FlatChanges:
    """Key writes to the flat state, after deleting the storage of the ``cleared`` accounts."""

    writes: tuple[KeyWrite, ...]
    cleared: tuple[bytes, ...] = ()
    # Each write's value in the parent state it was computed against (``of``), when no storage
    # is cleared: then applying the changes on that state needs no read for its undo
    # (``FlatStateEditor.apply``). Kept in memory only: not encoded, not compared.
    before: tuple[bytes | None, ...] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, state_writes: StateWrites, parent: ParentState) -> FlatChanges:
        """The keys a block's state writes change against its ``parent`` state, in key order.

        Writes that leave a value as the parent has it are left out, so one
        block has one encoding whichever path computed its writes: execution's
        deltas include a slot set and reset within the block, or an empty
        account touched and removed, which the BAL records as no change.
        """
        cleared = sorted(
            address
            for address in state_writes.cleared
            if (record := parent.account(address)) is not None and record.storage_root != EMPTY_ROOT
        )
        # Each changed key's write and its value in the parent state.
        changed: list[tuple[KeyWrite, bytes | None]] = []
        for address, record in state_writes.accounts.items():
            old = parent.account(address)
            if record != old:
                new_value = None if record is None else record.encode()
                changed.append(((Space.ACCOUNT, address, new_value), None if old is None else old.encode()))
        for address, slots in state_writes.storage.items():
            wiped = address in state_writes.cleared
            for slot, value in slots.items():
                old_value = parent.storage(address, slot)
                if value != (0 if wiped else old_value):
                    write = (Space.STORAGE, storage_key(address, slot), int_bytes(value) if value else None)
                    changed.append((write, int_bytes(old_value) if old_value else None))
        changed.sort(key=lambda item: (item[0][0], item[0][1]))
        writes = tuple(write for write, _ in changed)
        # A cleared account's slots in the flat state are not all among the writes: no ``before`` then.
        before = None if cleared else tuple(old for _, old in changed)
        return cls(writes, tuple(cleared), before)

    @cached_property
    def encoding(self) -> bytes:
        """``rlp([[space, key, value] or [space, key] for a delete, ...], [cleared address, ...])``.

        Computed once and kept (it pickles with the changes): the merkleizer's
        worker computes it for the BAL path, and the node's process stores it.
        Written out directly (``bal.rlp_items``): through pyrlp's sedes a
        10,000-account genesis took seconds to encode and decode. The list's
        length tells a write from a delete.
        """
        return _encode(self.writes, self.cleared)

    @cached_property
    def undo_encoding(self) -> bytes | None:
        """The encoding of these changes' undo on the parent state, None if ``before`` is unknown.

        The undo writes each key back to its ``before`` value. Like :attr:`encoding`
        it is computed once and pickles with the changes: the merkleizer's worker
        computes both, and fork choice stores the undo when it moves the flat state
        (``FlatStateEditor.apply``) instead of encoding it then, on the node's process.
        """
        if self.before is None:
            return None
        undo = tuple((space, key, old) for (space, key, _), old in zip(self.writes, self.before, strict=True))
        return _encode(undo, ())

    @classmethod
    def decode(cls, data: bytes) -> FlatChanges:
        """The inverse of :meth:`encode`; :class:`FlatChangesCorrupt` if ``data`` is not of its shape."""
        try:
            top = read_rlp(data)
        except RlpDecodeError as exc:
            raise FlatChangesCorrupt(f"not RLP: {exc}") from None
        match top:
            case [list() as encoded_writes, list() as encoded_cleared]:
                pass
            case _:
                raise FlatChangesCorrupt("expected [writes, cleared]")
        writes: list[KeyWrite] = []
        for write in encoded_writes:
            fields = _byte_strings(write, "a write is [space, key] or [space, key, value]")
            if len(fields) not in (2, 3):
                raise FlatChangesCorrupt("a write is [space, key] or [space, key, value]")
            space = _SPACES.get(fields[0])
            if space is None:
                raise FlatChangesCorrupt("unknown key space")
            writes.append((space, fields[1], fields[2] if len(fields) == 3 else None))
        cleared = _byte_strings(encoded_cleared, "a cleared account is an address")
        return cls(tuple(writes), tuple(cleared))


def _encode(writes: tuple[KeyWrite, ...], cleared: tuple[bytes, ...]) -> bytes:
    """:attr:`FlatChanges.encoding` of ``writes`` and ``cleared``."""
    items = (
        rlp_list(map(rlp_string, (space, key) if value is None else (space, key, value)))
        for space, key, value in writes
    )
    return rlp_list((rlp_list(items), rlp_list(map(rlp_string, cleared))))


class FlatChangesCorrupt(ValueError):
    """Stored flat-state changes that are not :meth:`FlatChanges.encode`'s output."""


_SPACES = {space.value: space for space in Space}


def _byte_strings(item: RlpItem, error: str) -> list[bytes]:
    """``item`` as a list of byte strings; :class:`FlatChangesCorrupt` with ``error`` if it is not one."""
    if not isinstance(item, list):
        raise FlatChangesCorrupt(error)
    strings = [field for field in item if isinstance(field, bytes)]
    if len(strings) != len(item):
        raise FlatChangesCorrupt(error)
    return strings


class FlatStateEditor:
    """Stages flat-state writes into ``batch``, reading the store through what it has staged."""

    def __init__(self, store: Store, batch: WriteBatch) -> None:
        self.store = store
        self.batch = batch
        self._staged: dict[tuple[Space, bytes], bytes | None] = {}

    def get(self, space: Space, key: bytes) -> bytes | None:
        if (space, key) in self._staged:
            return self._staged[(space, key)]
        return self.store.get(space, key)

    def _set(self, space: Space, key: bytes, value: bytes | None) -> None:
        self._staged[(space, key)] = value
        if value is None:
            self.batch.delete(space, key)
        else:
            self.batch.put(space, key, value)

    def _keys(self, space: Space, prefix: bytes = b"") -> Iterator[bytes]:
        """Every key under ``prefix`` as the staged writes leave it."""
        stored = {key for key, _ in self.store.iterate(space, prefix)}
        staged = {key for (where, key) in self._staged if where == space and key.startswith(prefix)}
        for key in stored | staged:
            if self.get(space, key) is not None:
                yield key

    def apply(self, changes: FlatChanges) -> bytes:
        """Apply a block's changes; return the encoding of its undo (the values they overwrote).

        The flat state is always moved one block at a time, each block applied
        on its parent's state (``client.flat_state_moves``), so changes that
        know their parent values (``changes.before``, the block just imported)
        bring their undo along (:attr:`FlatChanges.undo_encoding`) and need no read.
        """
        if changes.undo_encoding is not None:
            self.write(changes)
            return changes.undo_encoding
        # Everything the changes overwrite, read before any of it is written (the first read of a
        # key wins: a cleared slot written again is undone to its value before the block).
        cleared = self._cleared_keys(changes)
        undo = {(Space.STORAGE, key): self.get(Space.STORAGE, key) for key in cleared}
        for space, key, _ in changes.writes:
            undo.setdefault((space, key), self.get(space, key))
        self._write(changes, cleared)
        return _encode(tuple((space, key, value) for (space, key), value in undo.items()), ())

    def write(self, changes: FlatChanges) -> None:
        """Apply a block's changes without their undo (a rebuild's blocks below the undo window)."""
        self._write(changes, self._cleared_keys(changes))

    def _cleared_keys(self, changes: FlatChanges) -> list[bytes]:
        """The storage keys of the accounts ``changes`` clears, as the staged writes leave them."""
        return [key for address in changes.cleared for key in self._keys(Space.STORAGE, address)]

    def _write(self, changes: FlatChanges, cleared_keys: list[bytes]) -> None:
        """Delete ``cleared_keys`` (listed before any write), then write the changes."""
        for key in cleared_keys:
            self._set(Space.STORAGE, key, None)
        for space, key, value in changes.writes:
            self._set(space, key, value)

    def undo(self, undo: FlatChanges) -> None:
        """Write back what a block's changes overwrote (its undo, from :meth:`apply`)."""
        for space, key, value in undo.writes:
            self._set(space, key, value)

    def wipe(self) -> None:
        """Delete the whole flat state (before it is rebuilt from blocks' changes)."""
        for space in FLAT_SPACES:
            for key in list(self._keys(space)):
                self._set(space, key, None)
