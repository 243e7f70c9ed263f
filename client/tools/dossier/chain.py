"""``balrex dossier chain``: the dossier of blocks balrex executes itself, in two views.

A source is a bench-chain folder (``balrex bench-chain``) or EF blockchain
fixtures (one JSON file, or a folder of them; each test is its own chain from
its own genesis). Every block is imported through the pipeline
(``pipeline.import_block_sync``; a bench chain on the BAL path, its merkleization in
a worker process; EF fixtures on the streaming path) by an
:class:`.execution.ObservingBlockchain`: one execution both stores the block
(the next block finds its parent state) and says what each transaction touched. Invalid
blocks (EF fixtures hold some on purpose) and blocks of forks before Amsterdam
(no per-transaction units) are imported or skipped as they come and counted.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bal import BlockAccessList
from client.chain_config import UnsupportedChainConfig, config_from_fixture
from client.genesis import build_genesis, parse_hex_bytes
from client.tools.bench_chain import BenchChainError, load_chain
from client.tools.bench_chain.chain_files import METADATA_FILE
from pipeline import BlockRejected, LaterPartPool, MerkleWorkerPool, UnknownParent, import_block_sync
from pipeline.gc_tuning import freeze_live_objects
from storage import MemoryStore, RocksStore

from .execution import ObservingBlockchain, ObservingLaterPartWorker, SplitRun
from .model import AccessSource, BlockAccesses
from .oracle import oracle_block
from .views import block_views, dropped_keys


class ChainSourceError(ValueError):
    """A chain source that is neither a bench chain nor EF blockchain fixtures."""


@dataclass(frozen=True)
class _ChainRun:
    """One chain from its genesis: a blockchain holding the genesis, and the blocks to import."""

    blockchain: ObservingBlockchain
    blocks: list[bytes]
    #: each block's BAL when the source has them: the import takes the BAL path, and ``merkleizer``
    #: (a worker process) computes the state root beside the observed execution
    bals: list[BlockAccessList | None] | None = None
    merkleizer: MerkleWorkerPool | None = None
    #: runs each BAL block's later transactions in an observing worker process
    later_parts: LaterPartPool | None = None

    def blocks_and_bals(self) -> Iterator[tuple[bytes, BlockAccessList | None]]:
        return zip(self.blocks, self.bals or [None] * len(self.blocks), strict=True)


@dataclass(frozen=True)
class BlockRun:
    """How long one observed block's execution took in this run (the pipeline's ``exec`` span)."""

    #: which chain of the source (counted from 1: EF tests are one chain each)
    chain: int
    number: int
    tx_count: int
    exec_seconds: float
    #: the block ran in two parts; None when it ran whole (too small, or the split failed)
    split: SplitRun | None


@dataclass
class ChainViews:
    """Both views of every observed block, and what was not observed."""

    chain: str
    execution: list[BlockAccesses] = field(default_factory=list)
    bal: list[BlockAccesses] = field(default_factory=list)
    #: what each transaction's envelope alone announces (:mod:`.oracle`)
    oracle: list[BlockAccesses] = field(default_factory=list)
    bal_unindexed_reads: int = 0
    chains: int = 0
    invalid_blocks: int = 0
    unobservable_blocks: int = 0
    #: wall seconds inside the block imports (observed execution included), as import-bench times a run
    import_seconds: float = 0.0
    #: per observed block, in the order of ``execution``
    runs: list[BlockRun] = field(default_factory=list)

    def sources(self) -> tuple[AccessSource, AccessSource]:
        """The execution view and the BAL view as sources for :func:`.dossier.build_dossier`."""
        numbers = [block.number for block in self.execution] or [0]
        notes = tuple(self.notes())

        def source(view: str, blocks: list[BlockAccesses]) -> AccessSource:
            return AccessSource(
                self.chain,
                min(numbers),
                max(numbers),
                tuple(blocks),
                f"{self.chain}: {view}",
                notes,
                # chains whose blocks were all invalid or pre-Amsterdam add no block
                chains=len({run.chain for run in self.runs}) or 1,
            )

        return source("execution view", self.execution), source("BAL view", self.bal)

    def notes(self) -> list[str]:
        notes = []
        if self.chains > 1:
            notes.append(f"{self.chains} chains (EF tests): block numbers repeat across them")
        if self.invalid_blocks:
            notes.append(f"{self.invalid_blocks} invalid blocks rejected and left out")
        if self.unobservable_blocks:
            notes.append(f"{self.unobservable_blocks} blocks before Amsterdam imported but not observed")
        return notes


def _bench_chain(path: Path) -> Iterator[_ChainRun]:
    """The bench chain imported on the BAL path, into a throw-away RocksDB store.

    Its blocks carry their BALs, so the state root is computed in a merkleizer worker
    process while the block executes, and the later half of each block's transactions
    runs, observed too, in the later-part worker. Both workers start (a Python process
    each, seconds of imports) on the other core while this one loads the chain and
    builds its genesis.
    """
    merkleizer = MerkleWorkerPool(1)
    later_parts = LaterPartPool(ObservingLaterPartWorker)
    with ThreadPoolExecutor(max_workers=2) as starter:
        started = [starter.submit(pool.start) for pool in (merkleizer, later_parts)]
        try:
            try:
                chain = load_chain(path)
            except BenchChainError as exc:
                raise ChainSourceError(str(exc)) from None
            genesis = build_genesis(chain.genesis)
            with tempfile.TemporaryDirectory(prefix="balrex-dossier-") as directory:
                store = RocksStore(Path(directory) / "chaindata")
                try:
                    blockchain = ObservingBlockchain(store, genesis.config)
                    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
                    for future in started:
                        future.result()
                    # What is alive now lives to the end: keep the collector's walks off it (as import-bench).
                    freeze_live_objects()
                    yield _ChainRun(blockchain, chain.blocks, list(chain.bals), merkleizer, later_parts)
                finally:
                    store.close()
        finally:
            for future in started:
                future.cancel()
            for pool in (merkleizer, later_parts):
                pool.close()


def _fixture_runs(path: Path, only: str | None) -> Iterator[_ChainRun]:
    files = [path] if path.is_file() else sorted(path.rglob("*.json"))
    for file in files:
        if only is not None and only not in str(file):
            continue
        try:
            tests = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise ChainSourceError(f"{file}: not a JSON fixture file ({exc})") from None
        for test in tests.values() if isinstance(tests, dict) else ():
            if not isinstance(test, dict) or "blocks" not in test or "genesisRLP" not in test:
                continue
            try:
                config = config_from_fixture(test["network"], test["config"])
            except (KeyError, UnsupportedChainConfig):
                continue
            blockchain = ObservingBlockchain(MemoryStore(), config)
            blockchain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
            yield _ChainRun(
                blockchain, [parse_hex_bytes(block["rlp"]) for block in test["blocks"] if "rlp" in block]
            )


def _runs(path: Path, only: str | None) -> tuple[str, Iterator[_ChainRun]]:
    if (path / METADATA_FILE).is_file():
        return f"bench-chain {path.name}", _bench_chain(path)
    if path.is_file() and path.suffix == ".json" or path.is_dir():
        return f"ef-fixtures {path.name}", _fixture_runs(path, only)
    raise ChainSourceError(f"{path}: neither a bench-chain folder nor an EF fixture file or folder")


def observe_chain(
    path: Path,
    keep_coinbase: bool = False,
    only: str | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> ChainViews:
    """Import every block of the source at ``path``, each execution observed.

    ``on_block(done, total)`` follows the blocks (``total``: of the chains met so far).
    """
    label, runs = _runs(path, only)
    views = ChainViews(label)
    done = total = 0
    for run in runs:
        views.chains += 1
        total += len(run.blocks)
        for block_rlp, bal in run.blocks_and_bals():
            done += 1
            started = time.perf_counter()
            try:
                imported = import_block_sync(
                    run.blockchain, block_rlp, bal, merkleizer=run.merkleizer, later_parts=run.later_parts
                )
                # The imported block becomes the head (as import-bench and a node's fork choice do):
                # the flat state follows it, and its child reads the flat state, not the tries.
                run.blockchain.set_forkchoice(imported.block_hash)
            except (BlockRejected, UnknownParent):
                views.invalid_blocks += 1
                continue
            finally:
                views.import_seconds += time.perf_counter() - started
            observed = run.blockchain.take_observed()
            if observed is None:
                views.unobservable_blocks += 1
            else:
                views.runs.append(
                    BlockRun(
                        views.chains,
                        observed.number,
                        len(observed.tx_hashes),
                        imported.timings.seconds("exec") or 0.0,
                        observed.split,
                    )
                )
                block = block_views(observed, keep_coinbase)
                views.execution.append(block.execution)
                views.bal.append(block.bal)
                dropped = dropped_keys(observed.coinbase, keep_coinbase)
                views.oracle.append(
                    oracle_block(
                        observed.number, observed.transactions, observed.senders, block.execution, dropped
                    )
                )
                views.bal_unindexed_reads += block.bal_unindexed_reads
            if on_block is not None:
                on_block(done, total)
    return views
