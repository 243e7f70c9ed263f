"""``balrex dossier chain``: the dossier of blocks balrex executes itself, in two views.

A source is a bench-chain folder (``balrex bench-chain``), EF blockchain
fixtures (one JSON file, or a folder of them; each test is its own chain from
its own genesis) or a node's data dir with a block range. Every block of a
bench chain or fixture is imported through the pipeline
(``pipeline.import_block_sync``; a bench chain on the BAL path, its merkleization in
a worker process; EF fixtures on the streaming path) by an
:class:`.execution.ObservingBlockchain`: one execution both stores the block
(the next block finds its parent state) and says what each transaction touched.
A data dir's blocks are stored already: each is executed again on its parent's
state, read through a RocksDB secondary, so nothing is written and a running
node can keep its data dir. Invalid blocks (EF fixtures hold some on purpose)
and blocks of forks before Amsterdam (no per-transaction units) are imported or
skipped as they come and counted.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bal import BlockAccessList, decode_bal
from client.chain_config import UnsupportedChainConfig, config_from_fixture
from client.genesis import (
    DatadirGenesisError,
    build_genesis,
    check_stored_genesis,
    datadir_genesis_json,
    parse_hex_bytes,
)
from client.tools.bench_chain import BenchChain, BenchChainError, load_chain
from client.tools.bench_chain.chain_files import METADATA_FILE
from pipeline import (
    BlockRejected,
    LaterPartPool,
    MerkleWorkerPool,
    StageTimings,
    UnknownParent,
    import_block_sync,
)
from pipeline.executor import execute
from pipeline.interpreter import freeze_live_objects
from pipeline.state_source import StateSource
from storage import Chain, MemoryStore, RocksStore

from .execution import ObservingBlockchain, ObservingLaterPartWorker, SplitRun
from .model import AccessSource, BlockAccesses
from .parallel_blocks import BlockObservation, has_every_bal, observe_bench_chain, observe_views


class ChainSourceError(ValueError):
    """A chain source that is neither a bench chain nor EF blockchain fixtures."""


#: a node's data dir keeps its RocksDB here (``balrex node --datadir``)
CHAINDATA = "chaindata"


@dataclass(frozen=True)
class _ChainRun:
    """One chain: a blockchain holding the parent of its first block, and the blocks to execute."""

    blockchain: ObservingBlockchain
    #: each block's RLP, with its BAL when the source has them: the import takes the BAL path,
    #: and ``merkleizer`` (a worker process) computes the state root beside the observed execution
    blocks: Iterable[tuple[bytes, BlockAccessList | None]]
    block_count: int
    merkleizer: MerkleWorkerPool | None = None
    #: runs each BAL block's later transactions in an observing worker process
    later_parts: LaterPartPool | None = None
    #: the blocks are stored already (a node's data dir, opened read-only): each is executed
    #: again on its parent's state instead of imported
    stored: bool = False

    def execute_block(self, block_rlp: bytes, bal: BlockAccessList | None) -> float:
        """Execute one block, observed; the seconds its execution took (the pipeline's ``exec`` span)."""
        if self.stored:
            return _execute_stored(self.blockchain, block_rlp, bal)
        imported = import_block_sync(
            self.blockchain, block_rlp, bal, merkleizer=self.merkleizer, later_parts=self.later_parts
        )
        # The imported block becomes the head (as import-bench and a node's fork choice do):
        # the flat state follows it, and its child reads the flat state, not the tries.
        self.blockchain.set_forkchoice(imported.block_hash)
        return imported.timings.seconds("exec") or 0.0


def _execute_stored(blockchain: ObservingBlockchain, block_rlp: bytes, bal: BlockAccessList | None) -> float:
    """Execute a stored block again on its parent's state; nothing is written.

    The parent state is read through the tries (the flat state is the head's). The
    import's checks run as they did when the node stored the block: the header against
    its parent, the executed BAL against the stored one, the receipts and gas against
    the header. The state root is not computed again: execution matched on everything
    else, and merkleizing would be most of the cost.
    """
    prepared = blockchain.prepare(block_rlp, bal)
    source = StateSource(blockchain.store, prepared.parent.state_root, parent_has_flat_state=False)
    timings = StageTimings()
    execute(blockchain, prepared, source, bal, timings)
    return timings.seconds("exec") or 0.0


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
    #: wall seconds inside the block imports (observed execution included), as import-bench times a
    #: run; of a data dir, inside the blocks' executions; of a bench chain observed on both cores,
    #: from the worker's start to both processes' last block (the genesis header built meanwhile)
    import_seconds: float = 0.0
    #: per observed block, in the order of ``execution``
    runs: list[BlockRun] = field(default_factory=list)

    def add(self, chain: int, block: BlockObservation) -> None:
        """One more observed block of the ``chain``-th chain of the source."""
        self.runs.append(BlockRun(chain, block.number, block.tx_count, block.exec_seconds, block.split))
        self.execution.append(block.execution)
        self.bal.append(block.bal)
        self.oracle.append(block.oracle)
        self.bal_unindexed_reads += block.bal_unindexed_reads

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


def _is_bench_chain(path: Path) -> bool:
    return (path / METADATA_FILE).is_file()


def _load_bench_chain(path: Path) -> BenchChain:
    try:
        return load_chain(path)
    except BenchChainError as exc:
        raise ChainSourceError(str(exc)) from None


def _observe_in_parallel(
    label: str,
    chain: BenchChain,
    keep_coinbase: bool,
    on_block: Callable[[int, int], None] | None,
) -> ChainViews:
    """The bench chain's views, its blocks observed on two processes (:mod:`.parallel_blocks`).

    Blocks after one found invalid descend from it: they count as invalid too, as
    an import would find their parent unknown.
    """
    views = ChainViews(label, chains=1)
    started = time.perf_counter()
    try:
        shares = observe_bench_chain(chain, keep_coinbase, on_block)
    except BenchChainError as exc:
        raise ChainSourceError(str(exc)) from None
    views.import_seconds = time.perf_counter() - started
    rejected = [share.rejected_at for share in shares if share.rejected_at is not None]
    end = min(rejected, default=len(chain.blocks))
    views.invalid_blocks = len(chain.blocks) - end
    observed = sorted((block for share in shares for block in share.blocks), key=lambda block: block.number)
    for block in observed[:end]:
        views.add(1, block)
    return views


def _bench_chain(chain: BenchChain) -> Iterator[_ChainRun]:
    """The bench chain imported through the node's pipeline, into a throw-away RocksDB store.

    Its blocks with a BAL take the BAL path: the state root is computed in a merkleizer
    worker process while the block executes, and the later half of each block's
    transactions runs, observed too, in the later-part worker. Both workers start (a
    Python process each, seconds of imports) on the other core while this one builds
    the genesis.
    """
    merkleizer = MerkleWorkerPool(1)
    # No stealing: a block's units are observed in one run of each part.
    later_parts = LaterPartPool(ObservingLaterPartWorker, steals=False)
    with ThreadPoolExecutor(max_workers=2) as starter:
        started = [starter.submit(pool.start) for pool in (merkleizer, later_parts)]
        try:
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
                    yield _ChainRun(
                        blockchain,
                        zip(chain.blocks, chain.bals, strict=True),
                        len(chain.blocks),
                        merkleizer,
                        later_parts,
                    )
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
            blocks = [parse_hex_bytes(block["rlp"]) for block in test["blocks"] if "rlp" in block]
            yield _ChainRun(blockchain, ((block_rlp, None) for block_rlp in blocks), len(blocks))


@dataclass(frozen=True)
class BlockRange:
    """``--from`` / ``--to`` of a data dir source, both inclusive (None: block 1, the head)."""

    first: int | None = None
    last: int | None = None

    def numbers(self, head: int) -> range:
        first = 1 if self.first is None else self.first
        last = head if self.last is None else self.last
        if first < 1:
            raise ChainSourceError(f"--from {first}: block 0 is the genesis, which executes nothing")
        if first > head:
            raise ChainSourceError(f"--from {first}: the data dir's head is block {head}")
        if last > head:
            raise ChainSourceError(f"--to {last}: the data dir's head is block {head}")
        if first > last:
            raise ChainSourceError(f"--from {first} is after --to {last}")
        return range(first, last + 1)


def _datadir_run(path: Path, genesis_path: Path | None, blocks: BlockRange) -> Iterator[_ChainRun]:
    """The data dir's canonical blocks in ``blocks``, read through a RocksDB secondary.

    A secondary is a read-only view of the database as it was when it opened: the
    node may keep running (and writing) meanwhile, and nothing of the data dir changes.
    """
    try:
        genesis_json = datadir_genesis_json(path, genesis_path)
    except DatadirGenesisError as exc:
        raise ChainSourceError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="balrex-dossier-") as secondary:
        try:
            store = RocksStore.secondary(path / CHAINDATA, secondary)
        except Exception as exc:  # rocksdict raises its own exception types
            raise ChainSourceError(f"{path / CHAINDATA}: not a RocksDB database ({exc})") from None
        try:
            chain = Chain(store)
            try:
                genesis = build_genesis(genesis_json)
                check_stored_genesis(chain, genesis)
            except (DatadirGenesisError, UnsupportedChainConfig, KeyError, ValueError) as exc:
                raise ChainSourceError(f"{path}: {exc} (--genesis names the data dir's genesis)") from None
            blockchain = ObservingBlockchain(store, genesis.config)
            head_hash = chain.head_hash()
            head = None if head_hash is None else blockchain.header(head_hash)
            if head is None:
                raise ChainSourceError(f"{path}: the data dir has no head block")
            numbers = blocks.numbers(head.block_number)
            yield _ChainRun(blockchain, _stored_blocks(chain, numbers), len(numbers), stored=True)
        finally:
            store.close()


def _stored_blocks(chain: Chain, numbers: range) -> Iterator[tuple[bytes, BlockAccessList | None]]:
    """Each canonical block's RLP and stored BAL, read when the dossier reaches it (any range fits)."""
    for number in numbers:
        block_hash = chain.canonical_hash(number)
        block_rlp = None if block_hash is None else chain.block_rlp(block_hash)
        if block_hash is None or block_rlp is None:
            raise ChainSourceError(f"the data dir does not hold canonical block {number}")
        bal_rlp = chain.bal_rlp(block_hash)
        yield block_rlp, None if bal_rlp is None else decode_bal(bal_rlp)


def _runs(
    path: Path, only: str | None, blocks: BlockRange, genesis: Path | None
) -> tuple[str, Iterator[_ChainRun] | BenchChain]:
    if (path / CHAINDATA).is_dir():
        return f"datadir {path.name}", _datadir_run(path, genesis, blocks)
    if blocks != BlockRange() or genesis is not None:
        raise ChainSourceError(f"{path}: --from, --to and --genesis select blocks of a node's data dir")
    if _is_bench_chain(path):  # imported in turn or observed in parallel: observe_chain chooses
        return f"bench-chain {path.name}", _load_bench_chain(path)
    if path.is_file() and path.suffix == ".json" or path.is_dir():
        return f"ef-fixtures {path.name}", _fixture_runs(path, only)
    raise ChainSourceError(
        f"{path}: neither a bench-chain folder, a node's data dir nor an EF fixture file or folder"
    )


def observe_chain(
    path: Path,
    keep_coinbase: bool = False,
    only: str | None = None,
    on_block: Callable[[int, int], None] | None = None,
    *,
    blocks: BlockRange = BlockRange(),
    genesis: Path | None = None,
    measure_split: bool = False,
) -> ChainViews:
    """Execute every block of the source at ``path`` (of a data dir: those in ``blocks``), observed.

    A bench chain whose blocks all carry their BALs is executed block by block on
    both cores, each block on the state its BALs claim (:mod:`.parallel_blocks`);
    with ``measure_split`` (or BALs missing) it is imported through the node's
    split BAL path instead, one block after the other, which measures the split.
    ``genesis``: a data dir's genesis file (:func:`client.genesis.datadir_genesis_json`).
    ``on_block(done, total)`` follows the blocks (``total``: of the chains met so far).
    """
    if measure_split and not _is_bench_chain(path):
        raise ChainSourceError(f"{path}: --measure-split imports a bench chain; this is not one")
    label, runs = _runs(path, only, blocks, genesis)
    if isinstance(runs, BenchChain):
        if has_every_bal(runs) and not measure_split:
            return _observe_in_parallel(label, runs, keep_coinbase, on_block)
        runs = _bench_chain(runs)
    views = ChainViews(label)
    done = total = 0
    for run in runs:
        views.chains += 1
        total += run.block_count
        for block_rlp, bal in run.blocks:
            done += 1
            started = time.perf_counter()
            try:
                exec_seconds = run.execute_block(block_rlp, bal)
            except (BlockRejected, UnknownParent):
                views.invalid_blocks += 1
                continue
            finally:
                views.import_seconds += time.perf_counter() - started
            observed = run.blockchain.take_observed()
            if observed is None:
                views.unobservable_blocks += 1
            else:
                views.add(views.chains, observe_views(observed, exec_seconds, keep_coinbase))
            if on_block is not None:
                on_block(done, total)
    return views
