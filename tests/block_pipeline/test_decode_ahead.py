"""Blocks imported back to back: the next block is decoded while this one waits for its root.

``import_block(..., next_block=NextBlock(rlp))`` decodes the next block
(``ChainCore.decode_ahead``) on the BAL path when execution ends before the
merkleizer's root is back, the time the node's core otherwise waits idle; the
caller hands the result to the next import as its ``block``, and prepare
checks it as it checks any block, except for the body's checks (transactions
and withdrawals roots), which ran ahead too: prepare skips those that passed
for that very block, and rejects the block for one that failed. A block that
does not decode comes back as None and is decoded, and rejected, by prepare
as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import rlp
import trio

import client.blockchain as blockchain_module
from bal.deltas import AccountDelta
from client.blockchain import Blockchain
from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import BenchChain, load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from merkle.optimistic import MerkleResult
from pipeline import import_block
from pipeline.chain import NextBlock
from pipeline.merkle_workers import InlineMerkleizer
from pipeline.verdicts import BlockRejected, Rule
from storage import MemoryStore, Store


@pytest.fixture(scope="module")
def bench_chain(tmp_path_factory: pytest.TempPathFactory) -> BenchChain:
    out = tmp_path_factory.mktemp("decode-ahead") / "chain"
    generate_chain(ChainSettings(fork="amsterdam", blocks=3, txs_per_block=10, seed=3, accounts=100), out)
    return load_chain(out)


def new_chain(bench_chain: BenchChain) -> Blockchain:
    blockchain = Blockchain(MemoryStore(), bench_chain.config)
    genesis = build_genesis(bench_chain.genesis)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    return blockchain


class LateRoot(InlineMerkleizer):
    """A merkleizer whose root comes back well after the (small) block's execution ends."""

    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        await trio.sleep(0.5)
        return await super().merkleize(store, parent_root, deltas)


def test_the_next_block_is_decoded_while_the_root_is_awaited_and_prepare_takes_it(
    bench_chain: BenchChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = new_chain(bench_chain)
    decodes: list[bytes] = []
    real_decode = blockchain_module.decode_block

    def counting_decode(block_class: Any, block_rlp: bytes) -> Any:
        decodes.append(block_rlp)
        return real_decode(block_class, block_rlp)

    monkeypatch.setattr(blockchain_module, "decode_block", counting_decode)
    blocks, bals = bench_chain.blocks, bench_chain.bals

    async def import_all() -> bytes:
        decoded = None
        last = b""
        for index, (block_rlp, bal) in enumerate(zip(blocks, bals, strict=True)):
            following = NextBlock(blocks[index + 1]) if index + 1 < len(blocks) else None
            imported = await import_block(
                chain, block_rlp, bal, merkleizer=LateRoot(), block=decoded, next_block=following
            )
            chain.set_forkchoice(imported.block_hash)
            last = imported.block_hash
            if following is not None:
                assert following.decoded is not None
            decoded = None if following is None else following.decoded
        return last

    last = trio.run(import_all)
    # Each block decoded once: the first by its prepare, the others ahead, and prepare took those.
    assert decodes == list(blocks)
    assert chain.chain.head_hash() == last


def test_a_block_that_does_not_decode_ahead_is_rejected_by_prepare_for_its_reason(
    bench_chain: BenchChain,
) -> None:
    chain = new_chain(bench_chain)
    assert chain.decode_ahead(b"\x00") is None
    items = rlp.decode(bench_chain.blocks[0])
    items[1] = [b"\x7f" + b"\x00" * 10]  # a transaction of no known type
    unknown_type = rlp.encode(items)
    assert chain.decode_ahead(unknown_type) is None
    with pytest.raises(BlockRejected) as rejected:
        chain.prepare(unknown_type, None, chain.decode_ahead(unknown_type))
    assert rejected.value.rule in (Rule.UNSUPPORTED_TRANSACTION_TYPE, Rule.MALFORMED_BLOCK)


def test_decoded_ahead_is_the_block_prepare_would_decode(bench_chain: BenchChain) -> None:
    chain = new_chain(bench_chain)
    block = chain.decode_ahead(bench_chain.blocks[0])
    assert block is not None
    bal = bench_chain.bals[0]
    assert chain.prepare(bench_chain.blocks[0], bal, block).block is block
    assert block == chain.prepare(bench_chain.blocks[0], bal).block


def counted_roots(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of items of each ordered trie root ``client.blockchain`` computes from now on."""
    sizes: list[int] = []
    real_root = blockchain_module.ordered_trie_root

    def counting_root(items: Any) -> bytes:
        listed = list(items)
        sizes.append(len(listed))
        return real_root(listed)

    monkeypatch.setattr(blockchain_module, "ordered_trie_root", counting_root)
    return sizes


def test_the_body_checked_ahead_is_not_checked_again_by_prepare(
    bench_chain: BenchChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = new_chain(bench_chain)
    block_rlp, bal = bench_chain.blocks[0], bench_chain.bals[0]
    roots = counted_roots(monkeypatch)
    block = chain.decode_ahead(block_rlp)
    assert block is not None
    checked_ahead = len(roots)
    assert checked_ahead >= 1  # the transactions root, at least
    chain.prepare(block_rlp, bal, block)
    assert len(roots) == checked_ahead
    # Another decoding of the same bytes is not the block checked ahead: prepare checks its body.
    chain.prepare(block_rlp, bal)
    assert len(roots) == 2 * checked_ahead


def test_a_body_that_fails_its_check_ahead_is_rejected_by_prepare_for_it(bench_chain: BenchChain) -> None:
    chain = new_chain(bench_chain)
    items = rlp.decode(bench_chain.blocks[0])
    items[1] = items[1][1:] + items[1][:1]  # the same transactions in another order: another root
    reordered = rlp.encode(items)
    block = chain.decode_ahead(reordered)
    assert block is not None  # it reads; only its body is wrong
    with pytest.raises(BlockRejected) as rejected:
        chain.prepare(reordered, None, block)
    assert rejected.value.rule is Rule.TRANSACTIONS_ROOT_MISMATCH
