"""One import-bench run: a bench chain imported from genesis into a fresh RocksDB data dir.

Each run starts from nothing (a new data dir, genesis initialized, merkleizer
workers started) and only then starts the clock, so runs compare like with
like: the ``baseline`` run gives every block to the streaming path, the
``with_bal`` run gives each block its BAL (the BAL path: warmer, merkleizer
workers and executor concurrently). The ``py_evm`` run imports the same blocks
with py-evm's own ``Chain.import_block`` on its in-memory database (Prague
chains only: py-evm stops at Prague), the peer a Python user would otherwise
pick; it has no stages, only wall time.

Per block the row holds the pipeline's stage timings (``StageTimings.as_row``)
plus number, gas and transaction count; the summary holds the run's wall time
(first block received to last stored), Mgas/s, and per-block averages.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rlp
import trio
from eth.chains.base import Chain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM
from eth_utils import to_canonical_address

from pipeline import MerkleWorkerPool, import_block
from storage import RocksStore

from ..bench_chain.chain_files import BenchChain
from ..blockchain import Blockchain
from ..genesis import parse_hex_bytes, parse_quantity
from ..node import build_genesis

# Per-block fields averaged into a run's summary (the import-bench JSON's names).
AVERAGED = (
    "exec_ms",
    "warmer_ms",
    "merkle_concurrent_ms",
    "merkle_drain_ms",
    "merkle_overlap_pct",
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
    }


def run_pipeline(
    chain: BenchChain, *, with_bal: bool, workers: int | None, progress: Progress, datadir: Path | None = None
) -> dict[str, Any]:
    """Import every block through the pipeline; the run's summary and per-block rows."""
    with tempfile.TemporaryDirectory(prefix="balrex-bench-", dir=datadir) as directory:
        store = RocksStore(Path(directory) / "chaindata")
        # Only the BAL path merkleizes in workers; the streaming path merkleizes after execution.
        pool = MerkleWorkerPool(workers) if with_bal else None
        try:
            genesis = build_genesis(chain.genesis)
            blockchain = Blockchain(store, chain.config)
            blockchain.init_genesis(genesis.alloc, genesis.block_rlp)
            if pool is not None:
                pool.start()
            return trio.run(_import_all, blockchain, chain, with_bal, pool, progress)
        finally:
            if pool is not None:
                pool.close()
            store.close()


async def _import_all(
    blockchain: Blockchain,
    chain: BenchChain,
    with_bal: bool,
    pool: MerkleWorkerPool | None,
    progress: Progress,
) -> dict[str, Any]:
    rows = []
    started = time.perf_counter()
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        imported = await import_block(blockchain, block_rlp, bal if with_bal else None, merkleizer=pool)
        blockchain.set_forkchoice(imported.block_hash)
        rows.append(
            {
                "number": imported.number,
                "gas": imported.gas_used,
                "txs": imported.tx_count,
                **imported.timings.as_row(),
            }
        )
        progress()
    return {"summary": summarize(rows, time.perf_counter() - started), "blocks": rows}


def run_py_evm(chain: BenchChain, progress: Progress) -> dict[str, Any]:
    """Import every block with py-evm's own ``Chain.import_block`` (Prague chains)."""
    genesis = build_genesis(chain.genesis)
    block_class = PragueVM.get_block_class()
    genesis_header = rlp.decode(genesis.block_rlp, sedes=block_class).header
    implied = ("parent_hash", "uncles_hash", "bloom", "block_number", "gas_used")
    params = {k: v for k, v in genesis_header.as_dict().items() if k not in implied}
    chain_class = Chain.configure(
        "BenchChain", vm_configuration=((0, PragueVM),), chain_id=chain.config.chain_id
    )
    py_chain = chain_class.from_genesis(AtomicDB(), params, _py_evm_state(genesis.alloc))
    if py_chain.get_canonical_head().hash != genesis.block_hash:
        raise RuntimeError("py-evm builds a different genesis block from this genesis")
    rows = []
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
    return {"summary": summarize(rows, time.perf_counter() - started), "blocks": rows}


def _py_evm_state(alloc: Any) -> dict[bytes, dict[str, Any]]:
    return {
        to_canonical_address(address): {
            "balance": parse_quantity(fields.get("balance", 0)),
            "nonce": parse_quantity(fields.get("nonce", 0)),
            "code": parse_hex_bytes(fields.get("code", "0x")),
            "storage": {parse_quantity(k): parse_quantity(v) for k, v in fields.get("storage", {}).items()},
        }
        for address, fields in alloc.items()
    }
