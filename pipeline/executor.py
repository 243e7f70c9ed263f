"""The executor task's body: run the block on its parent state and check what it produced.

It runs in a worker thread (``trio.to_thread``), so the event loop stays free
to feed the merkleizer's workers and answer the Engine API while a block
executes. A thread cannot be cancelled: if another task fails, the nursery
waits for the block's execution to end before it reports the failure.

With a later part (the block's later transactions running in a worker from
the BAL's claimed state, ``pipeline.later_part``), any failure of the split
run, whatever its cause, is answered by running the whole block here again:
the verdict and the rule a rejection names are always the sequential ones.
The fallback is logged (at debug) and counted in the block's stage timings,
so a bug in the parallel path shows up instead of being absorbed.
"""

from __future__ import annotations

import logging

from bal import BlockAccessList

from .chain import BlockExecution, ChainCore, LaterPart, PreparedBlock
from .checks import check_executed_bal, check_execution_results
from .state_source import StateSource
from .timings import StageTimings

log = logging.getLogger("balrex.pipeline")


def execute(
    chain: ChainCore,
    prepared: PreparedBlock,
    source: StateSource,
    given: BlockAccessList | None,
    timings: StageTimings,
    later: LaterPart | None = None,
) -> BlockExecution:
    """Execute (recording the BAL from Amsterdam on) and run the post-execution checks."""
    with timings.span("exec"):
        if later is not None:
            try:
                return _execute(chain, prepared, source, given, later)
            except Exception as exc:
                timings.fallback = f"{type(exc).__name__}: {exc}"
                log.debug(
                    "block %d: the split run failed (%s); running the whole block here",
                    prepared.encoded.number,
                    timings.fallback,
                )
        return _execute(chain, prepared, source, given, None)


def _execute(
    chain: ChainCore,
    prepared: PreparedBlock,
    source: StateSource,
    given: BlockAccessList | None,
    later: LaterPart | None,
) -> BlockExecution:
    header = prepared.block.header
    # With a BAL given, its deltas drive the merkleizer: execution's are not needed.
    execution = chain.execute(prepared, source, with_deltas=given is None, later=later, given=given)
    check_executed_bal(header, execution, given)
    check_execution_results(header, execution)
    return execution
