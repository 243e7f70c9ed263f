"""A bench chain's blocks observed on both cores: each block executed on the state its BALs claim.

With a BAL for every block, the state before block ``k`` is the genesis with
the BALs of the blocks before it applied (:mod:`.claimed_state`), so blocks no
longer wait for each other's execution. Two processes (this one and one it
forks) take the chain's blocks in turn from a shared counter; each applies
the BALs of the blocks the other took, executes its own block whole (observed,
with every check of an import but the state root: its executed BAL must equal
the given one, which is what makes the next claimed state true), and turns it
into the dossier's views right there. Nothing is stored and nothing is
merkleized. The genesis header is built (and so its state root computed) by
this process, which executes block 1: the chain must start from it.

This is how the dossier uses BAL parallelism itself, at the block level. It
does not run the node's split of a block into two parts, so it measures no
split speedup; ``--measure-split`` imports the chain through the node's BAL
path instead (:func:`.chain.observe_chain`), and ``--bench-split`` /
``--bench-whole`` take the measurement from two ``import-bench`` runs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

from bal import BlockAccessList, synthesize_deltas
from client.genesis import alloc_to_deltas, build_genesis
from client.tools.bench_chain import BenchChain, BenchChainError
from pipeline import BlockRejected, StageTimings, UnknownParent
from pipeline.executor import execute
from pipeline.interpreter import freeze_live_objects
from storage import MemoryStore, Space, WriteBatch, split_block

from .beside import Beside
from .claimed_state import ClaimedState, ClaimedStateSource
from .execution import ObservedBlock, ObservingBlockchain, SplitRun
from .model import BlockAccesses
from .oracle import oracle_block
from .views import block_views, dropped_keys


@dataclass(frozen=True)
class BlockObservation:
    """One executed block, turned into the dossier's views where it ran (plain data: it crosses a pipe)."""

    number: int
    tx_count: int
    #: the pipeline's ``exec`` span of the block
    exec_seconds: float
    execution: BlockAccesses
    bal: BlockAccesses
    #: what each transaction's envelope alone announces (:mod:`.oracle`)
    oracle: BlockAccesses
    #: keys the BAL names without an index (left out of the BAL view)
    bal_unindexed_reads: int
    #: set when the node's split BAL path ran the block in two parts
    split: SplitRun | None = None


def observe_views(observed: ObservedBlock, exec_seconds: float, keep_coinbase: bool) -> BlockObservation:
    """The execution, BAL and oracle views of one observed block."""
    views = block_views(observed, keep_coinbase)
    dropped = dropped_keys(observed.coinbase, keep_coinbase)
    oracle = oracle_block(observed.number, observed.transactions, observed.senders, views.execution, dropped)
    return BlockObservation(
        observed.number,
        len(observed.tx_hashes),
        exec_seconds,
        views.execution,
        views.bal,
        oracle,
        views.bal_unindexed_reads,
        observed.split,
    )


@dataclass(frozen=True)
class Share:
    """What one process observed: its blocks, and the first block it found invalid (it stopped there)."""

    blocks: list[BlockObservation]
    #: position in the chain (from 0) of the block this process rejected
    rejected_at: int | None = None


def has_every_bal(chain: BenchChain) -> bool:
    """Whether every block carries its BAL: only then can any block start from a claimed state."""
    return all(bal is not None for bal in chain.bals)


class _BlockRunner:
    """One process's side: the claimed state, a chain over it, and the blocks it took in turn."""

    def __init__(self, chain: BenchChain) -> None:
        self.chain = chain
        self.claimed = ClaimedState()
        self.claimed.apply(alloc_to_deltas(chain.genesis.get("alloc", {})))
        # The chain's headers only: a block is checked against its parent's header.
        self.headers = MemoryStore()
        batch = WriteBatch()
        for block_rlp in chain.blocks:
            encoded = split_block(block_rlp)
            batch.put(Space.HEADER, encoded.block_hash, encoded.header_rlp)
        self.headers.commit(batch)
        self.blockchain = ObservingBlockchain(self.headers, chain.config)
        #: the claimed state is the state before the block at this position
        self.position = 0

    def add_genesis_header(self) -> None:
        """Build the genesis block (its state root computed) from ``genesis.json``: block 1's parent."""
        try:
            genesis = build_genesis(self.chain.genesis)
        except (KeyError, ValueError) as exc:
            raise BenchChainError(f"genesis.json: {exc}") from None
        batch = WriteBatch()
        batch.put(Space.HEADER, genesis.block_hash, split_block(genesis.block_rlp).header_rlp)
        self.headers.commit(batch)

    def _advance_to(self, position: int) -> None:
        for skipped in range(self.position, position):
            self.claimed.apply(synthesize_deltas(self._bal(skipped)))
        self.position = position

    def _bal(self, position: int) -> BlockAccessList:
        bal = self.chain.bals[position]
        assert bal is not None  # has_every_bal
        return bal

    def observe(self, position: int, keep_coinbase: bool) -> BlockObservation:
        """Execute the block at ``position`` on its claimed state; raise BlockRejected or UnknownParent."""
        self._advance_to(position)
        bal = self._bal(position)
        prepared = self.blockchain.prepare(self.chain.blocks[position], bal)
        source = ClaimedStateSource(self.claimed, self.headers, prepared.parent.state_root)
        timings = StageTimings()
        execute(self.blockchain, prepared, source, bal, timings)
        observed = self.blockchain.take_observed()
        assert observed is not None  # a block that takes a BAL is of a fork that records one
        # The executed BAL equals the given one (execute checked it): the next state is this one's plus it.
        self._advance_to(position + 1)
        return observe_views(observed, timings.seconds("exec") or 0.0, keep_coinbase)


def _take(counter: Synchronized[int]) -> int:
    with counter.get_lock():
        position = counter.value
        counter.value += 1
        return position


def _observe_share(
    runner: _BlockRunner,
    first: int | None,
    counter: Synchronized[int],
    finished: Synchronized[int],
    keep_coinbase: bool,
    on_block: Callable[[int], None] | None = None,
) -> Share:
    """Observe ``first`` (if given), then blocks taken from ``counter`` until none is left.

    An invalid block ends the observation for both processes: the blocks after it
    descend from it (the counter is run out, so the other stops after its current block).
    """
    blocks: list[BlockObservation] = []
    count = len(runner.chain.blocks)
    position = _take(counter) if first is None else first
    while position < count:
        try:
            blocks.append(runner.observe(position, keep_coinbase))
        except (BlockRejected, UnknownParent):
            with counter.get_lock():
                counter.value = count
            return Share(blocks, position)
        with finished.get_lock():
            finished.value += 1
        if on_block is not None:
            on_block(finished.value)
        position = _take(counter)
    return Share(blocks)


def observe_bench_chain(
    chain: BenchChain, keep_coinbase: bool, on_block: Callable[[int, int], None] | None = None
) -> list[Share]:
    """Observe every block of ``chain`` on two processes; one share each.

    The other process is forked (:class:`.beside.Beside`) once this one holds the
    genesis's claimed state, so it starts at once with all of it. This process then
    builds the genesis header and executes block 1; both take the other blocks in
    turn. Where forking is unsafe, every block is observed here (the other share,
    run afterwards, finds none left).
    """
    runner = _BlockRunner(chain)
    freeze_live_objects()
    counter = multiprocessing.Value("i", 1)  # position 0 (block 1) is this process's
    finished = multiprocessing.Value("i", 0)
    other = Beside(lambda: _observe_share(runner, None, counter, finished, keep_coinbase))
    runner.add_genesis_header()
    total = len(chain.blocks)
    progress = None if on_block is None else (lambda done: on_block(done, total))
    own = _observe_share(runner, 0, counter, finished, keep_coinbase, progress)
    return [own, other.result()]
