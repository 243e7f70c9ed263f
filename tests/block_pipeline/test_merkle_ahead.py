"""Blocks imported back to back: the next blocks' merkleization starts once this block's root is known.

``import_block(..., next_bals=...)`` asks the merkleizer's worker to merkleize
the next block on top of this block's root while this block finishes, and with
``MerkleWorkerPool(ahead=2)`` the block after it too, chained on the root the
next one will produce (``Merkleizer.merkleize_ahead``); a block claims a result
only if it was made for exactly its parent root and its BAL's deltas. Anything
else (a request ahead for other deltas, one that failed, a pool closed with
requests out) must leave every verdict and every stored root as a
block-at-a-time import has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rlp
import trio

from bal import synthesize_deltas
from client.blockchain import Blockchain
from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import BenchChain, load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from pipeline import MerkleWorkerPool, import_block
from pipeline.chain import ImportedBlock
from pipeline.merkle_workers import MerkledAhead
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


@pytest.fixture(params=[1, 2], ids=["one-ahead", "two-ahead"])
def pool(request: pytest.FixtureRequest) -> Iterator[MerkleWorkerPool]:
    workers = MerkleWorkerPool(size=1, ahead=request.param)
    workers.start()
    yield workers
    workers.close()


@pytest.fixture
def two_ahead() -> Iterator[MerkleWorkerPool]:
    workers = MerkleWorkerPool(size=1, ahead=2)
    workers.start()
    yield workers
    workers.close()


def _genesis_root(chain: Blockchain) -> bytes:
    return chain.header(chain.chain.head_hash()).state_root  # type: ignore[union-attr]


def _state_root(block_rlp: bytes) -> bytes:
    """The state root a block's header commits to (the header's fourth field)."""
    header = rlp.decode(block_rlp)[0]
    return bytes(header[3])


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
            block = await import_block(
                chain, block_rlp, bals[index], merkleizer=pool, next_bals=bals[index + 1 :]
            )
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
        genesis_root = _genesis_root(chain)
        # Block 2's BAL on block 1's parent: a root, but for other deltas than block 1's.
        pool.merkleize_ahead(chain.store, genesis_root, [bench_chain.bals[1]])
        return await import_block(chain, bench_chain.blocks[0], bench_chain.bals[0], merkleizer=pool)

    imported = trio.run(run)
    assert _merkle_started(imported) >= 0  # its own request, after the one ahead was read and dropped


def test_a_request_ahead_that_fails_is_no_verdict(
    chain: Blockchain, pool: MerkleWorkerPool, bench_chain: BenchChain
) -> None:
    unknown_root = b"\x11" * 32
    deltas = synthesize_deltas(bench_chain.bals[0])

    async def run() -> tuple[object, ImportedBlock]:
        pool.merkleize_ahead(chain.store, unknown_root, [bench_chain.bals[0]])
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
    genesis_root = _genesis_root(chain)
    workers.merkleize_ahead(chain.store, genesis_root, bench_chain.bals[:2])
    processes = workers.processes
    workers.close()
    assert processes and not any(process.is_alive() for process in processes)


def test_two_ahead_the_second_is_chained_on_the_first_ones_root(
    chain: Blockchain, bench_chain: BenchChain, two_ahead: MerkleWorkerPool
) -> None:
    genesis_root = _genesis_root(chain)
    first_root = _state_root(bench_chain.blocks[0])

    async def run() -> tuple[MerkledAhead | None, MerkledAhead | None]:
        two_ahead.merkleize_ahead(chain.store, genesis_root, bench_chain.bals)  # three given, two sent
        first = await two_ahead.merkleized_ahead(genesis_root, synthesize_deltas(bench_chain.bals[0]))
        second = await two_ahead.merkleized_ahead(first_root, synthesize_deltas(bench_chain.bals[1]))
        third = await two_ahead.merkleized_ahead(
            _state_root(bench_chain.blocks[1]), synthesize_deltas(bench_chain.bals[2])
        )
        assert third is None  # only two were sent
        return first, second

    first, second = trio.run(run)
    assert first is not None and first.result.state_root == first_root
    assert second is not None and second.result.state_root == _state_root(bench_chain.blocks[1])
    assert second.started >= first.finished  # the worker took it up once the first was done


def test_a_request_ahead_for_another_block_drops_the_ones_chained_on_it(
    chain: Blockchain, bench_chain: BenchChain, two_ahead: MerkleWorkerPool
) -> None:
    genesis_root = _genesis_root(chain)
    deltas = [synthesize_deltas(bal) for bal in bench_chain.bals]

    async def run() -> tuple[MerkledAhead | None, int, ImportedBlock]:
        # Blocks 2 and 3 sent as if they came next; block 1 comes instead.
        two_ahead.merkleize_ahead(chain.store, genesis_root, bench_chain.bals[1:])
        mismatched = await two_ahead.merkleized_ahead(genesis_root, deltas[0])
        out = two_ahead.busy  # the request chained on the wrong block was read and dropped too
        imported = await import_block(chain, bench_chain.blocks[0], bench_chain.bals[0], merkleizer=two_ahead)
        return mismatched, out, imported

    mismatched, out, imported = trio.run(run)
    assert mismatched is None and out == 0
    assert _merkle_started(imported) >= 0  # block 1's own request
