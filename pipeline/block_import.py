"""One block through the pipeline: prepare, run the tasks, join, store once (pipeline.md §2).

* **BAL path** (a BAL is given): the BAL's deltas are synthesized before any
  task starts; then one nursery runs the **merkleizer** (worker process, or
  inline for in-memory stores: storage roots, state trie, root from the BAL
  alone), started from the block's outline while the block is prepared, the
  **warmer** (thread: parent state into the executor's cache) and the
  **executor** (thread: runs the block, records its BAL, checks it). Given a
  :class:`~pipeline.later_part.LaterPartPool`, a large enough block's later
  part (its later transactions) runs in its worker process meanwhile (EIP-7928 parallel
  execution; the executor falls back to running them itself on any failure).
  The join checks the root; the block is stored in one batch.
* **Streaming path** (no BAL: every pre-Amsterdam block, and the baseline the
  BAL path is measured against): execute, then merkleize the deltas execution
  produced, in this process.

Any failure in any task cancels the others (a busy merkle worker is killed, the
warmer stops at its next key, the executor's thread runs to its end), the
optimistic result is dropped, and nothing is stored: the error propagates
before :meth:`~pipeline.chain.ChainCore.commit_block` is reached.

:func:`import_block` is the one entry point (async); :func:`import_block_sync`
runs it to completion for callers outside an event loop (tests, the chain
generator, the EF runner).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial

import trio
from eth.abc import BlockAPI

from bal import BlockAccessList, bal_hash, synthesize_deltas
from bal.deltas import AccountDelta
from merkle import merkleize
from merkle.optimistic import MerkleResult
from merkle.stages import state_writes
from storage import FlatChanges, StateWrites, Store

from .chain import BlockExecution, BlockOutline, ChainCore, ImportedBlock, NextBlock, PreparedBlock
from .checks import check_state_root
from .executor import execute
from .later_part import LaterPartPool, RemotePart
from .merkle_workers import InlineMerkleizer, Merkleizer
from .state_source import StateSource
from .timings import StageTimings
from .verdicts import BlockRejected, UnknownParent
from .warmer import warm, warm_plan


async def import_block(
    chain: ChainCore,
    block_rlp: bytes,
    bal: BlockAccessList | None = None,
    *,
    merkleizer: Merkleizer | None = None,
    later_parts: LaterPartPool | None = None,
    block: BlockAPI | None = None,
    next_bals: Sequence[BlockAccessList] = (),
    next_block: NextBlock | None = None,
) -> ImportedBlock:
    """Validate and store one block; raise BlockRejected (nothing stored) if it is invalid.

    ``merkleizer`` runs the BAL path's merkleization (default: inline, in a
    thread); pass a :class:`~pipeline.merkle_workers.MerkleWorkerPool` for a
    RocksDB store to give it a core of its own. ``later_parts`` (RocksDB stores
    only) executes the later part of BAL blocks in a worker process. ``block``:
    the block already decoded from ``block_rlp``, if the caller has it (the
    Engine API builds it from the payload), so that prepare does not decode it again.
    ``next_bals``: the BALs of the blocks the caller imports next, in order, on
    top of this one (blocks imported back to back): their merkleization starts
    as soon as this block's root is known, while this block finishes, and as
    far ahead as the merkleizer goes (``Merkleizer.merkleize_ahead``).
    ``next_block``: the block the caller imports next; on the BAL path, if this
    block's execution ends before its root has come back, the next block is
    decoded meanwhile (``ChainCore.decode_ahead``; otherwise this process's core
    waits idle for the merkleizer's worker) into ``next_block.decoded``.
    """
    timings = StageTimings()
    # Every CPU-heavy step runs in a worker thread: the event loop keeps answering requests.
    flat_changes: FlatChanges | None = None
    if bal is None:
        with timings.span("prepare"):
            prepared = await trio.to_thread.run_sync(chain.prepare, block_rlp, None, block)
        source = _parent_state(chain, prepared.outline)
        execution, writes = await _streaming(chain, prepared, source, timings)
    else:
        prepared, source, execution, writes, flat_changes = await _with_bal(
            chain,
            block_rlp,
            block,
            bal,
            merkleizer or InlineMerkleizer(),
            later_parts,
            timings,
            next_bals,
            next_block,
        )
    timings.flat_state = prepared.parent_has_flat_state
    check_state_root(prepared.block.header, writes.state_root)
    with timings.span("store"):
        await trio.to_thread.run_sync(_store, chain, prepared, writes, execution, source, flat_changes)
    catch_up_workers(chain.store, merkleizer, later_parts)
    timings.finish()
    return ImportedBlock(
        block_hash=prepared.encoded.block_hash,
        number=prepared.encoded.number,
        state_root=writes.state_root,
        gas_used=execution.gas_used,
        tx_count=prepared.transaction_count,
        timings=timings,
    )


def catch_up_workers(store: Store, merkleizer: Merkleizer | None, later_parts: LaterPartPool | None) -> None:
    """Tell the idle worker processes that ``store`` changed (a block stored, fork choice moved).

    They replay the writes now, while the caller goes on (fork choice, the next block's
    outline), not at the start of the next block: so call it after every write they read.
    """
    for pool in (merkleizer, later_parts):
        if pool is not None:
            pool.catch_up(store)


def _parent_state(chain: ChainCore, outline: BlockOutline) -> StateSource:
    return StateSource(
        chain.store, outline.parent_state_root, parent_has_flat_state=outline.parent_has_flat_state
    )


def _store(
    chain: ChainCore,
    prepared: PreparedBlock,
    writes: StateWrites,
    execution: BlockExecution,
    source: StateSource,
    flat_changes: FlatChanges | None,
) -> None:
    """Store the block; ``flat_changes`` as the BAL path's merkleizer computed them, or None.

    Without them they are computed here, against the parent state execution
    read (cached). Either way the changes are the same: the writes are the same
    and so are the parent's values, read from the flat state or from the tries.
    """
    if flat_changes is None:
        flat_changes = FlatChanges.of(writes, source)
    chain.commit_block(prepared, writes, execution, flat_changes)


def import_block_sync(
    chain: ChainCore,
    block_rlp: bytes,
    bal: BlockAccessList | None = None,
    *,
    merkleizer: Merkleizer | None = None,
    later_parts: LaterPartPool | None = None,
) -> ImportedBlock:
    """:func:`import_block` run to completion in a trio loop of its own, for callers outside one."""
    return trio.run(
        partial(import_block, chain, block_rlp, bal, merkleizer=merkleizer, later_parts=later_parts)
    )


async def _streaming(
    chain: ChainCore, prepared: PreparedBlock, source: StateSource, timings: StageTimings
) -> tuple[BlockExecution, StateWrites]:
    execution = await trio.to_thread.run_sync(execute, chain, prepared, source, None, timings)
    with timings.span("merkle"):
        writes = await trio.to_thread.run_sync(
            merkleize, chain.store, prepared.parent.state_root, execution.deltas, chain.trie_nodes()
        )
    return execution, writes


def _early_outline(
    chain: ChainCore, block_rlp: bytes, bal: BlockAccessList
) -> tuple[BlockOutline | None, Sequence[AccountDelta]]:
    """The block's outline if its header commits to ``bal`` (else None), and the BAL's deltas."""
    outline = chain.outline(block_rlp)
    if outline is not None and outline.block_access_list_hash != bal_hash(bal):
        outline = None
    return outline, synthesize_deltas(bal)


async def _with_bal(
    chain: ChainCore,
    block_rlp: bytes,
    block: BlockAPI | None,
    bal: BlockAccessList,
    merkleizer: Merkleizer,
    later_parts: LaterPartPool | None,
    timings: StageTimings,
    next_bals: Sequence[BlockAccessList],
    next_block: NextBlock | None,
) -> tuple[PreparedBlock, StateSource, BlockExecution, StateWrites, FlatChanges]:
    """The BAL path: merkleizer and later part from the outline, then prepare, warm and execute.

    The worker processes need only the block's outline (its parent's state
    root, its transaction count) and the BAL, so when the header commits to the
    given BAL they start before the block is decoded and checked: their start
    (the later part's catch-up and decoding, the merkleizer's first reads)
    overlaps ``prepare`` on the other core instead of following it. If prepare
    then rejects the block, the workers finish their part (one block's work)
    and stay alive for the next block; the rejection is what the caller gets.
    A block without an outline, or committing to another BAL, is prepared
    first (prepare rejects it) and nothing starts early.
    """
    prepare_started = timings.now()
    outline, deltas = await trio.to_thread.run_sync(_early_outline, chain, block_rlp, bal)
    merkled: list[MerkleResult] = []
    stop_warming = threading.Event()
    rejection: BlockRejected | UnknownParent | None = None
    ran: tuple[PreparedBlock, StateSource, BlockExecution] | None = None

    async def merkleize_bal(parent_state_root: bytes) -> None:
        ahead = await merkleizer.merkleized_ahead(parent_state_root, deltas)
        if ahead is not None:
            result = ahead.result
            timings.record_between("merkle", ahead.started, ahead.finished)
        else:
            with timings.span("merkle"):
                result = await merkleizer.merkleize(chain.store, parent_state_root, deltas)
        merkled.append(result)
        if next_bals:
            merkleizer.merkleize_ahead(chain.store, result.state_root, next_bals)

    async def run_later_part(later: RemotePart, outline: BlockOutline) -> None:
        assert later_parts is not None
        with timings.span("later"):
            await later.fetch(later_parts, chain, outline, block_rlp, bal)
        # The executor steals (if it does) before the part's end comes back.
        timings.stolen_txs = later.stolen
        timings.later_txs = outline.transaction_count - later.first - later.stolen

    def start_workers(nursery: trio.Nursery, outline: BlockOutline) -> RemotePart | None:
        first = None if later_parts is None else later_parts.split_point(chain, outline)
        later = None if first is None else RemotePart(first)
        if later is not None:
            nursery.start_soon(run_later_part, later, outline)
        nursery.start_soon(merkleize_bal, outline.parent_state_root)
        return later

    async def execute_prepared(
        nursery: trio.Nursery, prepared: PreparedBlock, later: RemotePart | None
    ) -> tuple[PreparedBlock, StateSource, BlockExecution]:
        source = _parent_state(chain, prepared.outline)
        warm_started = timings.now()
        # A later part's transactions, first..n-1, are blockAccessIndex first+1..n.
        n = prepared.outline.transaction_count
        head, rest = warm_plan(bal, range(0) if later is None else range(later.first + 1, n + 1))
        warm(source, head)  # here, before the warmer's thread competes for the interpreter lock

        async def warmer() -> None:
            try:
                await trio.to_thread.run_sync(warm, source, rest, stop_warming)
            finally:
                timings.record("warmer", warm_started)

        nursery.start_soon(warmer)
        try:
            execution = await trio.to_thread.run_sync(execute, chain, prepared, source, bal, timings, later)
        except BaseException:
            stop_warming.set()  # the block is dead: no more prefetching for it
            raise
        if next_block is not None and not merkled:
            # The root is not back yet: this core would wait idle for the merkleizer.
            nursery.start_soon(decode_next, next_block)
        return prepared, source, execution

    async def decode_next(upcoming: NextBlock) -> None:
        upcoming.decoded = await trio.to_thread.run_sync(chain.decode_ahead, upcoming.block_rlp)

    try:
        async with trio.open_nursery() as nursery:
            later = None if outline is None else start_workers(nursery, outline)
            try:
                prepared = await trio.to_thread.run_sync(chain.prepare, block_rlp, bal, block)
            except (BlockRejected, UnknownParent) as exc:
                rejection = exc  # the nursery waits for the workers' part, then it is raised
            else:
                if outline is None:
                    later = start_workers(nursery, prepared.outline)
                timings.record("prepare", prepare_started)
                ran = await execute_prepared(nursery, prepared, later)
    except BaseExceptionGroup as group:
        raise (rejection or _the_cause(group)) from None
    finally:
        stop_warming.set()
    if rejection is not None:
        raise rejection
    assert ran is not None  # no rejection and no exception: execution ran
    prepared, source, execution = ran
    timings.warm_hits, timings.warm_misses = source.stats.hits, source.stats.misses
    result = merkled[0]
    writes = state_writes(result.state_root, result.nodes, deltas, result.accounts)
    return prepared, source, execution, writes, result.flat_changes


def _the_cause(group: BaseExceptionGroup) -> BaseException:
    """The one exception to report from a failed nursery: the block's fault before ours."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    rejected = [exc for exc in leaves if isinstance(exc, BlockRejected)]
    return (rejected or leaves)[0]
