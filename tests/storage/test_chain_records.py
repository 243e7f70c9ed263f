"""Chain: block records by hash, canonical numbers, the head pointer, and what a block batch holds."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from storage import Chain, Space, Store, StoredBlock, WriteBatch


def make_block(n: int, *, receipts: bool = True, bal: bool = True, tag: bytes = b"") -> StoredBlock:
    h = keccak(b"block %d" % n + tag)
    return StoredBlock(
        block_hash=h,
        number=n,
        header_rlp=b"header %d" % n + tag,
        body_rlp=b"body %d" % n + tag,
        receipts_rlp=b"receipts %d" % n + tag if receipts else None,
        bal_rlp=b"bal %d" % n + tag if bal else None,
    )


def commit(store: Store, *blocks: StoredBlock, head: StoredBlock | None = None) -> None:
    batch = WriteBatch()
    for block in blocks:
        Chain.stage_block(batch, block)
    if head is not None:
        Chain.stage_head(batch, head.block_hash, head.number)
    store.commit(batch)


def test_fresh_chain_has_nothing(store: Store) -> None:
    chain = Chain(store)
    assert chain.head_hash() is None
    assert chain.canonical_hash(0) is None
    h = keccak(b"x")
    assert (chain.header_rlp(h), chain.body_rlp(h), chain.receipts_rlp(h), chain.bal_rlp(h)) == (None,) * 4


def test_block_records_by_hash(store: Store) -> None:
    block = make_block(1)
    commit(store, block)
    chain = Chain(store)
    assert chain.header_rlp(block.block_hash) == block.header_rlp
    assert chain.body_rlp(block.block_hash) == block.body_rlp
    assert chain.receipts_rlp(block.block_hash) == block.receipts_rlp
    assert chain.bal_rlp(block.block_hash) == block.bal_rlp
    # staging a block does not make it canonical or the head
    assert chain.head_hash() is None
    assert chain.canonical_hash(1) is None


def test_block_without_receipts_or_bal_stores_neither(store: Store) -> None:
    block = make_block(2, receipts=False, bal=False)
    commit(store, block)
    chain = Chain(store)
    assert chain.receipts_rlp(block.block_hash) is None
    assert chain.bal_rlp(block.block_hash) is None
    assert list(store.iterate(Space.RECEIPTS)) == [] and list(store.iterate(Space.BAL)) == []
    assert dict(store.iterate(Space.HEADER)) == {block.block_hash: block.header_rlp}
    assert dict(store.iterate(Space.BODY)) == {block.block_hash: block.body_rlp}


def test_stage_block_ops() -> None:
    block = make_block(3)
    batch = WriteBatch()
    Chain.stage_block(batch, block)
    h = block.block_hash
    assert batch.ops == [
        (Space.HEADER.value + h, block.header_rlp),
        (Space.BODY.value + h, block.body_rlp),
        (Space.RECEIPTS.value + h, block.receipts_rlp),
        (Space.BAL.value + h, block.bal_rlp),
    ]


def test_stage_head_sets_canonical_and_head(store: Store) -> None:
    block = make_block(7)
    commit(store, block, head=block)
    chain = Chain(store)
    assert chain.head_hash() == block.block_hash
    assert chain.canonical_hash(7) == block.block_hash
    assert chain.canonical_hash(6) is None
    assert dict(store.iterate(Space.CANONICAL)) == {(7).to_bytes(8, "big"): block.block_hash}
    assert dict(store.iterate(Space.META)) == {b"head": block.block_hash}


def test_canonical_numbers_iterate_in_numeric_order(store: Store) -> None:
    numbers = [2**40, 256, 0, 1, 255, 2**64 - 1, 65536]
    batch = WriteBatch()
    for n in numbers:
        Chain.stage_head(batch, keccak(b"%d" % n), n)
    store.commit(batch)
    got = [(int.from_bytes(k, "big"), v) for k, v in store.iterate(Space.CANONICAL)]
    assert got == [(n, keccak(b"%d" % n)) for n in sorted(numbers)]
    # the last stage_head in the batch is the head
    assert Chain(store).head_hash() == keccak(b"%d" % numbers[-1])


def test_number_out_of_range_is_refused_before_anything_is_staged() -> None:
    batch = WriteBatch()
    with pytest.raises(OverflowError):
        Chain.stage_head(batch, b"\x01" * 32, 2**64)
    with pytest.raises(OverflowError):
        Chain.stage_head(batch, b"\x01" * 32, -1)
    assert batch.ops == []


def test_reorg_replaces_canonical_hash_and_head_but_keeps_old_records(store: Store) -> None:
    one, two_a, two_b = make_block(1), make_block(2, tag=b"a"), make_block(2, tag=b"b")
    commit(store, one, head=one)
    commit(store, two_a, head=two_a)
    commit(store, two_b, head=two_b)
    chain = Chain(store)
    assert chain.head_hash() == two_b.block_hash
    assert chain.canonical_hash(1) == one.block_hash
    assert chain.canonical_hash(2) == two_b.block_hash
    # the side block is still readable by hash
    assert chain.header_rlp(two_a.block_hash) == two_a.header_rlp
    assert chain.bal_rlp(two_a.block_hash) == two_a.bal_rlp
    assert len(list(store.iterate(Space.HEADER))) == 3


def test_head_can_move_back(store: Store) -> None:
    one, two = make_block(1), make_block(2)
    commit(store, one, two, head=two)
    batch = WriteBatch()
    Chain.stage_head(batch, one.block_hash, 1)
    store.commit(batch)
    chain = Chain(store)
    assert chain.head_hash() == one.block_hash
    # stage_head does not unset higher numbers: that is the caller's business
    assert chain.canonical_hash(2) == two.block_hash
