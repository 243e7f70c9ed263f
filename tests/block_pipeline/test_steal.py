"""The node's process takes the end of a later part that is still running (pipeline.later_part).

Every transaction of the part must run in exactly one process (the claims
board), and a block whose part was stolen from must store exactly what the
same block imported whole stores.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trio
from claiming_handler import ClaimingHandler
from slow_later_part_worker import SlowLaterPartWorker

from client.blockchain import Blockchain
from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from pipeline import LaterPartPool, MerkleWorkerPool, import_block_sync
from pipeline.later_part import MIN_STEAL_REMAINING, TransactionClaims
from pipeline.processes import WorkerProcess, worker_context
from storage import RocksStore

from .bal_blocks import dump_store


def test_the_board_refuses_the_worker_past_a_stolen_end() -> None:
    claims = TransactionClaims(worker_context())
    claims.open(5, 25)
    assert claims.take(5) and claims.take(6)
    # 18 unclaimed (7..24): the node takes two thirds, the worker keeps 7..12.
    assert claims.steal(MIN_STEAL_REMAINING) == 13
    assert all(claims.take(index) for index in range(7, 13))
    assert not claims.take(13)
    assert claims.steal(MIN_STEAL_REMAINING) is None  # nothing left to take
    claims.open(0, 4)
    assert claims.steal(MIN_STEAL_REMAINING) is None  # fewer than the minimum unclaimed


def test_a_lock_never_given_back_means_no_steal_not_a_hang() -> None:
    claims = TransactionClaims(worker_context())
    claims.open(0, 100)
    claims._lock.acquire()  # as a worker killed inside take() leaves it
    started = time.perf_counter()
    assert claims.steal(MIN_STEAL_REMAINING) is None
    assert time.perf_counter() - started < 5


@pytest.mark.integration  # a real worker process
def test_each_index_is_claimed_by_one_process_only() -> None:
    context = worker_context()
    claims = TransactionClaims(context)
    worker = WorkerProcess("balrex-test-claims", ClaimingHandler, handler_args=(claims,), context=context)
    try:
        worker.wait_ready()
        for pause in (0.0, 0.001, 0.003):
            claims.open(10, 60)
            stolen: list[int | None] = []

            async def race(pause: float = pause, stolen: list[int | None] = stolen) -> list[int]:
                async with trio.open_nursery() as nursery:
                    answer: list[object] = []

                    async def ask() -> None:
                        answer.append(await worker.request((10, pause)))

                    nursery.start_soon(ask)
                    await trio.sleep(0.02)
                    stolen.append(claims.steal(MIN_STEAL_REMAINING))
                taken = answer[0]
                assert isinstance(taken, list)
                return taken

            taken = trio.run(race)
            end = 60 if stolen[0] is None else stolen[0]
            assert taken == list(range(10, end))  # the worker ran exactly up to the end it was left
            if pause >= 0.001:
                assert stolen[0] is not None  # 50 indices at 1 ms or more each: still running at 20 ms
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def bench_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steal-chain")
    generate_chain(ChainSettings(fork="amsterdam", blocks=2, txs_per_block=40, seed=7, accounts=120), path)
    return path


@pytest.mark.integration  # real processes: worker pools
def test_a_block_stolen_from_stores_what_a_whole_one_does(tmp_path: Path, bench_chain: Path) -> None:
    chain = load_chain(bench_chain)
    genesis = build_genesis(chain.genesis)
    merkleizer = MerkleWorkerPool(size=1)
    # The node's process runs a fifth, the worker starts half a second late: the node steals.
    slow = LaterPartPool(SlowLaterPartWorker, first_share=0.2)
    dumps, stolen = [], []
    try:
        for name, later_parts in (("whole", None), ("stolen", slow)):
            store = RocksStore(tmp_path / name)
            try:
                blockchain = Blockchain(store, chain.config)
                blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
                for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
                    imported = import_block_sync(
                        blockchain, block_rlp, bal, merkleizer=merkleizer, later_parts=later_parts
                    )
                    assert imported.timings.fallback is None
                    blockchain.set_forkchoice(imported.block_hash)
                    if later_parts is not None:
                        stolen.append(imported.timings.stolen_txs)
                        later_parts.first_share = 0.2  # keep the node's share small for every block
                dumps.append(dump_store(store))
            finally:
                store.close()
    finally:
        merkleizer.close()
        slow.close()
    assert dumps[0] == dumps[1]
    # 40 transactions, 8 here, 32 unclaimed when the node is done: the worker keeps 10, the node takes 22.
    assert stolen == [22, 22]
