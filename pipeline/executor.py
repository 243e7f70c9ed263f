"""The executor task's body: run the block on its parent state and check what it produced.

It runs in a worker thread (``trio.to_thread``), so the event loop stays free
to feed the merkleizer's workers and answer the Engine API while a block
executes. A thread cannot be cancelled: if another task fails, the nursery
waits for the block's execution to end before it reports the failure.

With a later part (the block's later transactions running in a worker from
the BAL's claimed state, ``pipeline.part_workers``), any failure of the split
run, whatever its cause, is answered by running the whole block here again:
the verdict and the rule a rejection names are always the sequential ones.
"""

from __future__ import annotations

from dataclasses import replace

from eth.exceptions import VMError
from eth_utils import ValidationError

from bal import BlockAccessList
from client.blockchain import Blockchain, BlockRejected, PreparedBlock
from client.forks import BlockExecution
from client.forks.amsterdam.parts import LaterPart
from client.requests import InvalidRequests
from client.state_source import StateSource

from .checks import check_executed_bal, check_execution_results
from .timings import StageTimings


def execute(
    blockchain: Blockchain,
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
                return _execute(blockchain, prepared, source, given, later)
            except Exception as exc:
                timings.fallback = f"{type(exc).__name__}: {exc}"
        return _execute(blockchain, prepared, source, given, None)


def _execute(
    blockchain: Blockchain,
    prepared: PreparedBlock,
    source: StateSource,
    given: BlockAccessList | None,
    later: LaterPart | None,
) -> BlockExecution:
    block = prepared.block
    vm = blockchain.block_vm(prepared.vm_class, block.header, source)
    try:
        vm.validate_block_blobs(block)
        # With a BAL given, its deltas drive the merkleizer: execution's are not needed.
        execution: BlockExecution = vm.execute_block(block, with_deltas=given is None, later=later)
    except ValidationError as exc:
        raise BlockRejected("invalid-transaction-or-block", str(exc)) from None
    except VMError as exc:
        # Raised out of a transaction's top-level message (py-evm's balance check
        # for value transfers): the transaction, so the block, is invalid.
        raise BlockRejected("invalid-transaction", f"{type(exc).__name__}: {exc}") from None
    except InvalidRequests as exc:
        raise BlockRejected(exc.rule, str(exc)) from None
    check_executed_bal(block.header, execution, given)
    check_execution_results(block.header, execution)
    if given is not None and execution.block_access_list is not None:
        # The check made the executed BAL the given one: keep the given, whose RLP
        # prepare already has (it hashed it), rather than encode the same list to store it.
        execution = replace(execution, block_access_list=given)
    return execution
