"""One block through the pipeline: prepare, run the tasks, join, store once (pipeline.md §2).

* **BAL path** (a BAL is given): the BAL's deltas are synthesized before any
  task starts; then one nursery runs the **warmer** (thread: parent state into
  the executor's cache), the **merkleizer** (worker process, or inline for
  in-memory stores: storage roots, state trie, root from the BAL alone) and the
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

from bal import BlockAccessList, synthesize_deltas
from bal.deltas import AccountDelta
from merkle import merkleize
from merkle.optimistic import MerkleResult
from merkle.stages import state_writes
from storage import FlatChanges, StateWrites

from .chain import BlockExecution, ChainCore, ImportedBlock, PreparedBlock
from .checks import check_state_root
from .executor import execute
from .later_part import LaterPartPool, RemotePart
from .merkle_workers import InlineMerkleizer, Merkleizer
from .state_source import StateSource
from .timings import StageTimings
from .verdicts import BlockRejected
from .warmer import warm, warm_plan


async def import_block(
    chain: ChainCore,
    block_rlp: bytes,
    bal: BlockAccessList | None = None,
    *,
    merkleizer: Merkleizer | None = None,
    later_parts: LaterPartPool | None = None,
) -> ImportedBlock:
    """Validate and store one block; raise BlockRejected (nothing stored) if it is invalid.

    ``merkleizer`` runs the BAL path's merkleization (default: inline, in a
    thread); pass a :class:`~pipeline.merkle_workers.MerkleWorkerPool` for a
    RocksDB store to give it a core of its own. ``later_parts`` (RocksDB stores
    only) executes the later part of BAL blocks in a worker process.
    """
    timings = StageTimings()
    # Every CPU-heavy step runs in a worker thread: the event loop keeps answering requests.
    with timings.span("prepare"):
        prepared, deltas = await trio.to_thread.run_sync(_prepare, chain, block_rlp, bal)
    timings.flat_state = prepared.parent_has_flat_state
    source = StateSource(
        chain.store, prepared.parent.state_root, parent_has_flat_state=prepared.parent_has_flat_state
    )
    if bal is None:
        execution, writes = await _streaming(chain, prepared, source, timings)
    else:
        execution, writes = await _with_bal(
            chain,
            prepared,
            block_rlp,
            source,
            bal,
            deltas,
            merkleizer or InlineMerkleizer(),
            later_parts,
            timings,
        )
    check_state_root(prepared.block.header, writes.state_root)
    with timings.span("store"):
        await trio.to_thread.run_sync(_store, chain, prepared, writes, execution, source)
    timings.finish()
    return ImportedBlock(
        block_hash=prepared.encoded.block_hash,
        number=prepared.encoded.number,
        state_root=writes.state_root,
        gas_used=execution.gas_used,
        tx_count=prepared.transaction_count,
        timings=timings,
    )


def _prepare(
    chain: ChainCore, block_rlp: bytes, bal: BlockAccessList | None
) -> tuple[PreparedBlock, Sequence[AccountDelta]]:
    return chain.prepare(block_rlp, bal), () if bal is None else synthesize_deltas(bal)


def _store(
    chain: ChainCore,
    prepared: PreparedBlock,
    writes: StateWrites,
    execution: BlockExecution,
    source: StateSource,
) -> None:
    # Against the parent state execution read (cached): one encoding whichever path ran.
    chain.commit_block(prepared, writes, execution, FlatChanges.of(writes, source))


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
            merkleize, chain.store, prepared.parent.state_root, execution.deltas
        )
    return execution, writes


async def _with_bal(
    chain: ChainCore,
    prepared: PreparedBlock,
    block_rlp: bytes,
    source: StateSource,
    bal: BlockAccessList,
    deltas: Sequence[AccountDelta],
    merkleizer: Merkleizer,
    later_parts: LaterPartPool | None,
    timings: StageTimings,
) -> tuple[BlockExecution, StateWrites]:
    first = None if later_parts is None else later_parts.split_point(chain, prepared)
    later = None if first is None else RemotePart(first)
    stop_warming = threading.Event()
    merkled: list[MerkleResult] = []
    warm_started = timings.now()
    head, rest = warm_plan(bal)
    warm(source, head)  # here, before any thread competes for the interpreter lock

    async def warmer() -> None:
        try:
            await trio.to_thread.run_sync(warm, source, rest, stop_warming)
        finally:
            timings.record("warmer", warm_started)

    async def merkleize_bal() -> None:
        with timings.span("merkle"):
            merkled.append(
                await merkleizer.merkleize(chain.store, prepared.parent.state_root, deltas)
            )

    async def run_later_part() -> None:
        assert later_parts is not None and later is not None
        timings.later_txs = prepared.transaction_count - later.first
        with timings.span("later"):
            await later.fetch(later_parts, chain, prepared, block_rlp, bal)

    try:
        async with trio.open_nursery() as nursery:
            if later is not None:
                nursery.start_soon(run_later_part)
            nursery.start_soon(warmer)
            nursery.start_soon(merkleize_bal)
            try:
                execution = await trio.to_thread.run_sync(
                    execute, chain, prepared, source, bal, timings, later
                )
            except BaseException:
                stop_warming.set()  # the block is dead: no more prefetching for it
                raise
    except BaseExceptionGroup as group:
        raise _the_cause(group) from None
    finally:
        stop_warming.set()
    timings.warm_hits, timings.warm_misses = source.stats.hits, source.stats.misses
    result = merkled[0]
    return execution, state_writes(result.state_root, result.nodes, deltas, result.accounts)


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
