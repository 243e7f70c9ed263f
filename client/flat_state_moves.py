"""Moving the flat state to the block fork choice made the head, in the batch that moves the head.

The flat state (what execution reads for a child of its block) holds the
post-state of ``FLAT_STATE_BLOCK``. Importing a block stores its changes to it
(``storage.flat_changes``) and leaves it alone, so a sibling that arrives
first, or a side branch, never pulls it off the canonical chain. When fork
choice names a new head, :func:`stage_flat_state_move` moves it there: back
from the current flat-state block to the common ancestor, undoing each block
(its undo is recorded when its changes are applied, and kept for the last
:data:`UNDO_DEPTH` blocks), then forward to the head, applying each block's
changes. A move that needs an undo no longer kept (a reorg deeper than that)
rebuilds the flat state from every block's changes since genesis: slow, and
always right.
"""

from __future__ import annotations

from collections.abc import Mapping

import rlp

from storage import FLAT_STATE_BLOCK, Chain, FlatChanges, FlatStateEditor, Space, Store, WriteBatch

UNDO_DEPTH = 128


class FlatStateUnavailable(RuntimeError):
    """A block's changes to the flat state are not stored (a data dir from before they were kept)."""


def _parent_and_number(chain: Chain, block_hash: bytes) -> tuple[bytes, int]:
    header_rlp = chain.header_rlp(block_hash)
    if header_rlp is None:
        raise FlatStateUnavailable(f"block 0x{block_hash.hex()} is not stored")
    fields = rlp.decode(header_rlp)
    return fields[0], int.from_bytes(fields[8], "big")


def _paths(chain: Chain, current: bytes, target: bytes) -> tuple[list[bytes], list[bytes]]:
    """The blocks to undo (newest first) and to apply (oldest first) to go from ``current`` to ``target``."""
    undo: list[bytes] = []
    apply: list[bytes] = []
    a, b = current, target
    a_parent, a_number = _parent_and_number(chain, a)
    b_parent, b_number = _parent_and_number(chain, b)
    while a != b:
        if a_number >= b_number:
            undo.append(a)
            a = a_parent
            a_parent, a_number = _parent_and_number(chain, a) if a_number > 0 else (a, -1)
        else:
            apply.append(b)
            b = b_parent
            b_parent, b_number = _parent_and_number(chain, b)
    apply.reverse()
    return undo, apply


def _changes(store: Store, block_hash: bytes, recent: Mapping[bytes, FlatChanges]) -> FlatChanges:
    known = recent.get(block_hash)
    if known is not None:
        return known
    raw = store.get(Space.FLAT_CHANGES, block_hash)
    if raw is None:
        raise FlatStateUnavailable(f"the flat-state changes of block 0x{block_hash.hex()} are not stored")
    return FlatChanges.decode(raw)


def stage_flat_state_move(
    store: Store, batch: WriteBatch, target: bytes, recent: Mapping[bytes, FlatChanges] | None = None
) -> None:
    """Stage into ``batch`` the writes that make the flat state hold ``target``'s post-state.

    ``recent``: changes the caller has just stored, by block hash, so that they
    are not read back and decoded again (the block just imported, most often).
    """
    recent = recent or {}
    chain = Chain(store)
    current = chain.pointer(FLAT_STATE_BLOCK)
    if current == target:
        return
    editor = FlatStateEditor(store, batch)
    undo_path, apply_path = _paths(chain, current, target) if current is not None else ([], [])
    undos = [store.get(Space.FLAT_UNDO, block_hash) for block_hash in undo_path]
    if current is None or any(raw is None for raw in undos):
        _rebuild(store, chain, editor, batch, target, recent)
    else:
        for block_hash, raw in zip(undo_path, undos, strict=True):
            assert raw is not None
            editor.undo(FlatChanges.decode(raw))
            batch.delete(Space.FLAT_UNDO, block_hash)
        for block_hash in apply_path:
            _apply(store, chain, editor, batch, block_hash, recent)
    Chain.stage_pointer(batch, FLAT_STATE_BLOCK, target)


def _apply(
    store: Store,
    chain: Chain,
    editor: FlatStateEditor,
    batch: WriteBatch,
    block_hash: bytes,
    recent: Mapping[bytes, FlatChanges],
) -> None:
    """Apply one block's changes, keep its undo, and drop the undo that falls out of the window."""
    batch.put(Space.FLAT_UNDO, block_hash, editor.apply(_changes(store, block_hash, recent)))
    _, number = _parent_and_number(chain, block_hash)
    # Below a reorg of at most UNDO_DEPTH blocks the canonical chain is the same on both branches.
    expired = chain.canonical_hash(number - UNDO_DEPTH) if number >= UNDO_DEPTH else None
    if expired is not None:
        batch.delete(Space.FLAT_UNDO, expired)


def _rebuild(
    store: Store,
    chain: Chain,
    editor: FlatStateEditor,
    batch: WriteBatch,
    target: bytes,
    recent: Mapping[bytes, FlatChanges],
) -> None:
    """The flat state from scratch: every block's changes from genesis to ``target``."""
    ancestry = [target]
    parent, number = _parent_and_number(chain, target)
    while number > 0:
        ancestry.append(parent)
        parent, number = _parent_and_number(chain, parent)
    ancestry.reverse()
    editor.wipe()
    for block_hash, _ in store.iterate(Space.FLAT_UNDO):  # relative to a flat state that is gone
        batch.delete(Space.FLAT_UNDO, block_hash)
    for block_hash in ancestry[:-UNDO_DEPTH]:
        editor.write(_changes(store, block_hash, recent))  # below the undo window: no undo kept
    for block_hash in ancestry[-UNDO_DEPTH:]:
        _apply(store, chain, editor, batch, block_hash, recent)
