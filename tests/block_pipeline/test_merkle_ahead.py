"""Blocks imported back to back: the next block's merkleization starts once this block's root is known.

``import_block(..., next_bal=...)`` asks the merkleizer's worker to merkleize
the next block on top of this block's root while this block finishes
(``Merkleizer.merkleize_ahead``); the next block claims that result only if it
was made for exactly its parent root and its BAL's deltas. Anything else (a
request ahead for other deltas, one that failed, a pool closed with one out)
must leave every verdict and every stored root as a block-at-a-time import has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from bal import synthesize_deltas
from bal.deltas import AccountDelta
from client.blockchain import Blockchain
from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import BenchChain, load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from pipeline import MerkleWorkerPool, import_block
from pipeline.chain import ImportedBlock
from storage import RocksStore

pytestmark = pytest.mark.integration  # a real merkleizer worker process


@pytest.fixture(scope="module")
def bench_chain(tmp_path_factory: pytest.TempPathFactory) -> BenchChain:
    out = tmp_path_factory.mktemp("ahead") / "chain"
    generate_chain(ChainSettings(fork="amsterdam", blocks=3, txs_per_block=20, seed=5, accounts=100), out)
    return load_chain(out)


@pytest.fixture
def chain(tmp_path: Path, bench_chain: BenchChain) -> Iterator[Blockchain]:
    store = RocksStore(tmp_path / "db")
    blockchain = Blockchain(store, bench_chain.config)
    genesis = build_genesis(bench_chain.genesis)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    yield blockchain
    store.close()


@pytest.fixture
def pool() -> Iterator[MerkleWorkerPool]:
    workers = MerkleWorkerPool(size=1)
    workers.start()
    yield workers
    workers.close()


def _merkle_started(imported: ImportedBlock) -> float:
    """When the block's merkleization started, in seconds since the block was received."""
    return imported.timings.spans["merkle"][0]


def test_each_next_block_takes_the_root_merkleized_ahead(
    chain: Blockchain, pool: MerkleWorkerPool, bench_chain: BenchChain
) -> None:
    async def import_all() -> list[ImportedBlock]:
        imported = []
        bals = bench_chain.bals
        for index, block_rlp in enumerate(bench_chain.blocks):
            next_bal = bals[index + 1] if index + 1 < len(bals) else None
            block = await import_block(chain, block_rlp, bals[index], merkleizer=pool, next_bal=next_bal)
            chain.set_forkchoice(block.block_hash)
            imported.append(block)
        return imported

    first, *rest = trio.run(import_all)
    assert _merkle_started(first) >= 0
    # Merkleized before they were received (their parent was still being finished), and right:
    # import_block checks every root against its header.
    assert rest and all(_merkle_started(block) < 0 for block in rest)
    assert chain.header(rest[-1].block_hash) is not None


def test_a_result_made_ahead_for_other_deltas_is_not_taken(
    chain: Blockchain, pool: MerkleWorkerPool, bench_chain: BenchChain
) -> None:
    async def run() -> ImportedBlock:
        genesis_root = chain.header(chain.chain.head_hash()).state_root  # type: ignore[union-attr]
        deltas = synthesize_deltas(bench_chain.bals[0])
        other = [*deltas[:-1], AccountDelta(deltas[-1].address, balance=12345)]
        pool.merkleize_ahead(chain.store, genesis_root, other)
        return await import_block(chain, bench_chain.blocks[0], bench_chain.bals[0], merkleizer=pool)

    imported = trio.run(run)
    assert _merkle_started(imported) >= 0  # its own request, after the one ahead was read and dropped


def test_a_request_ahead_that_fails_is_no_verdict(
    chain: Blockchain, pool: MerkleWorkerPool, bench_chain: BenchChain
) -> None:
    unknown_root = b"\x11" * 32
    deltas = synthesize_deltas(bench_chain.bals[0])

    async def run() -> tuple[object, ImportedBlock]:
        pool.merkleize_ahead(chain.store, unknown_root, deltas)
        ahead = await pool.merkleized_ahead(unknown_root, deltas)
        imported = await import_block(chain, bench_chain.blocks[0], bench_chain.bals[0], merkleizer=pool)
        return ahead, imported

    ahead, imported = trio.run(run)
    assert ahead is None  # the worker found no such parent: the block's own request decides
    assert imported.number == 1


def test_closing_a_pool_with_a_request_ahead_leaves_no_process(
    chain: Blockchain, bench_chain: BenchChain
) -> None:
    workers = MerkleWorkerPool(size=1)
    workers.start()
    genesis_root = chain.header(chain.chain.head_hash()).state_root  # type: ignore[union-attr]
    workers.merkleize_ahead(chain.store, genesis_root, synthesize_deltas(bench_chain.bals[0]))
    processes = workers.processes
    workers.close()
    assert processes and not any(process.is_alive() for process in processes)
