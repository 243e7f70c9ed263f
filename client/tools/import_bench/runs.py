"""One import-bench run: a bench chain imported from genesis into a fresh RocksDB data dir.

Each run starts from nothing (a new data dir, genesis stored, merkleizer
workers started; the genesis state itself is computed once for all runs) and
only then starts the clock, so runs compare like with
like: the ``baseline`` run gives every block to the streaming path, the
``with_bal`` run gives each block its BAL (the BAL path: warmer, merkleizer
workers and executor concurrently). The ``py_evm`` run imports the same blocks
with py-evm's own ``Chain.import_block`` on its in-memory database (Prague
chains only: py-evm stops at Prague), the peer a Python user would otherwise
pick; it has no stages, only wall time.

Per block the row holds the pipeline's stage timings (``StageTimings.as_row``)
plus number, gas and transaction count; the summary holds the run's wall time
(first block received to last stored), Mgas/s, per-block averages, and the
CPU time each of the run's processes used meanwhile (:mod:`.cpu`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import rlp
import trio
from eth.abc import BlockAPI
from eth.vm.forks.prague import PragueVM

from client.blockchain import Blockchain
from client.genesis import Genesis
from client.later_part_worker import later_part_pool
from client.tools.bench_chain.chain_files import BenchChain
from client.tools.pyevm_peer import pyevm_chain
from pipeline import LaterPartPool, MerkleWorkerPool, catch_up_workers, import_block
from pipeline.chain import NextBlock
from pipeline.cores import CorePlan, available_cores, pin, plan_cores
from pipeline.merkle_workers import REPLAY_AHEAD
from storage import RocksStore

from .cpu import CpuMeter

# Per-block fields averaged into a run's summary (the import-bench JSON's names).
AVERAGED = (
    "exec_ms",
    "warmer_ms",
    "merkle_concurrent_ms",
    "merkle_drain_ms",
    "merkle_overlap_pct",
    "later_ms",
    "later_txs",
    "stolen_txs",
    "store_ms",
)

Progress = Callable[[], None]


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [row[key] for row in rows if row.get(key) is not None]
    return round(sum(values) / len(values), 3) if values else None


def summarize(rows: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """The run's summary: totals, throughput, and per-block averages (null where no block has it)."""
    gas = sum(row["gas"] for row in rows)
    hits = sum(row.get("warm_hits") or 0 for row in rows)
    misses = sum(row.get("warm_misses") or 0 for row in rows)
    warmed = any(row.get("warm_hits") is not None for row in rows)
    return {
        "blocks": len(rows),
        "gas": gas,
        "wall_s": round(wall_s, 4),
        "mgas_per_s": round(gas / wall_s / 1e6, 3) if wall_s else None,
        "ms_per_block": round(1000 * wall_s / len(rows), 3) if rows else None,
        **{key: _mean(rows, key) for key in AVERAGED},
        "warm_hit_pct": round(100 * hits / (hits + misses), 3) if warmed and hits + misses else None,
        # Blocks whose split run failed and were executed again whole (none on a valid chain).
        "fallbacks": sum(1 for row in rows if row.get("fallback")),
    }


def run_pipeline(
    chain: BenchChain,
    genesis: Genesis,
    *,
    with_bal: bool,
    workers: int | None,
    progress: Progress,
    parallel: bool = True,
    datadir: Path | None = None,
    pin_cores: bool = True,
) -> dict[str, Any]:
    """Import every block through the pipeline; the run's summary and per-block rows.

    ``pin_cores``: on the BAL path, give the node's process and the later-part worker a core
    each (``pipeline.cores``), as the node does; this process's affinity is restored after the run.
    """
    original_cores = available_cores()
    plan = plan_cores(original_cores) if with_bal and pin_cores else None
    with tempfile.TemporaryDirectory(prefix="balrex-bench-", dir=datadir) as directory:
        store = RocksStore(Path(directory) / "chaindata")
        # Only the BAL path merkleizes in workers; the streaming path merkleizes after execution.
        pool = (
            MerkleWorkerPool(workers, cores=plan.merkle if plan else None, ahead=REPLAY_AHEAD)
            if with_bal
            else None
        )
        # ... and only the BAL path can run a block's later transactions from the BAL's state.
        later_parts = (
            later_part_pool(cores=plan.later_part if plan else None) if with_bal and parallel else None
        )
        try:
            if plan is not None:
                pin(plan.node)
            blockchain = Blockchain(store, chain.config)
            blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
            worker_processes: list[BaseProcess] = []
            for started in (pool, later_parts):
                if started is not None:
                    started.start(store)
                    worker_processes.extend(started.processes)
            meter = CpuMeter(worker_processes)
            run: dict[str, Any] = trio.run(
                _import_all, blockchain, chain, with_bal, pool, later_parts, progress, meter
            )
            run["summary"]["pinned_cores"] = None if plan is None else _plan_row(plan)
            return run
        finally:
            for started in (pool, later_parts):
                if started is not None:
                    started.close()
            store.close()
            if plan is not None:
                pin(original_cores)


def _plan_row(plan: CorePlan) -> dict[str, list[int]]:
    """The core plan as the JSON report shows it."""
    return {"node": sorted(plan.node), "later_part": sorted(plan.later_part), "merkle": sorted(plan.merkle)}


async def _import_all(
    blockchain: Blockchain,
    chain: BenchChain,
    with_bal: bool,
    pool: MerkleWorkerPool | None,
    later_parts: LaterPartPool | None,
    progress: Progress,
    meter: CpuMeter,
) -> dict[str, Any]:
    rows = []
    meter.start()
    started = time.perf_counter()
    bals = chain.bals if with_bal else [None] * len(chain.blocks)
    lookahead = 0 if pool is None else pool.ahead
    decoded: BlockAPI | None = None
    for index, (block_rlp, bal) in enumerate(zip(chain.blocks, bals, strict=True)):
        # The BALs of the blocks the merkleizer may work on ahead (``MerkleWorkerPool.ahead``).
        next_bals = [later for later in bals[index + 1 : index + 1 + lookahead] if later is not None]
        # The BAL path decodes the next block while it waits for this one's root.
        has_next = with_bal and index + 1 < len(chain.blocks)
        next_block = NextBlock(chain.blocks[index + 1]) if has_next else None
        imported = await import_block(
            blockchain,
            block_rlp,
            bal,
            merkleizer=pool,
            later_parts=later_parts,
            block=decoded,
            next_bals=next_bals,
            next_block=next_block,
        )
        decoded = None if next_block is None else next_block.decoded
        blockchain.set_forkchoice(imported.block_hash)
        # As the node does after fork choice moves the head: the workers replay the flat state's
        # move while this process prepares the next block, and the later part starts without it.
        catch_up_workers(blockchain.store, pool, later_parts)
        rows.append(
            {
                "number": imported.number,
                "gas": imported.gas_used,
                "txs": imported.tx_count,
                **imported.timings.as_row(),
            }
        )
        progress()
    return _run_result(rows, started, meter)


def _run_result(rows: list[dict[str, Any]], started: float, meter: CpuMeter) -> dict[str, Any]:
    """A run's JSON: the summary over the wall time since ``started``, the meter's CPU times, the rows."""
    wall_s = time.perf_counter() - started
    return {"summary": summarize(rows, wall_s) | meter.stop(wall_s), "blocks": rows}


def run_py_evm(chain: BenchChain, genesis: Genesis, progress: Progress) -> dict[str, Any]:
    """Import every block with py-evm's own ``Chain.import_block`` (Prague chains)."""
    block_class = PragueVM.get_block_class()
    py_chain = pyevm_chain(PragueVM, chain.config.chain_id, genesis.block_rlp, genesis.alloc)
    if py_chain.get_canonical_head().hash != genesis.block_hash:
        raise RuntimeError("py-evm builds a different genesis block from this genesis")
    rows = []
    meter = CpuMeter([])
    meter.start()
    started = time.perf_counter()
    for block_rlp in chain.blocks:
        received = time.perf_counter()
        block = rlp.decode(block_rlp, sedes=block_class)
        py_chain.import_block(block)
        wall_ms = round(1000 * (time.perf_counter() - received), 3)
        rows.append(
            {
                "number": block.header.block_number,
                "gas": block.header.gas_used,
                "txs": len(block.transactions),
                "wall_ms": wall_ms,
                **{key: None for key in AVERAGED},
                "prepare_ms": None,
                "timeline": None,
            }
        )
        progress()
    return _run_result(rows, started, meter)
