"""What a block access list makes possible: the BAL ceiling, and balrex's own two-part split.

With a BAL, every transaction can start from the state the BAL claims before
it: no transaction waits for another, so only the number of workers bounds
the speedup (the *BAL ceiling*). It is the same list scheduling as the
dependency-aware simulation (canonical order, a transaction's duration its
gas), on a graph without edges; with unbounded workers a block takes as long
as its largest transaction.

balrex's BAL path uses two workers in a fixed way: the node's process runs the
first part of the block's transactions while a worker runs the rest from the
state the BAL claims at the split. Its best case is the block's gas over the
larger part's gas, the prediction its measured speedup is set against
(:mod:`.measured`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .analysis import BlockGraph, analyze_block
from .dossier import percent, ratio
from .model import BlockAccesses, TxAccesses
from .schedule import simulate


def independent(graph: BlockGraph) -> BlockGraph:
    """The block of ``graph`` with every access removed: the graph a BAL leaves (no edges)."""
    block = graph.block
    unconstrained = BlockAccesses(
        block.number,
        tuple(
            TxAccesses(tx.tx_index, tx.tx_hash, tx.gas_used, frozenset(), frozenset(), 0)
            for tx in block.transactions
        ),
        block.source_tx_count,
    )
    return analyze_block(unconstrained, graph.durations, with_gas=False)


def bal_ceiling(graphs: Sequence[BlockGraph], workers: Sequence[int]) -> dict[str, Any]:
    """Speedup per worker count when only the workers bound it, and with unbounded workers."""
    free = [independent(graph) for graph in graphs]
    total = sum(sum(graph.durations) for graph in graphs)
    rows = []
    for count in workers:
        makespan = sum(simulate(graph, count, "canonical").makespan for graph in free)
        rows.append(
            {
                "workers": count,
                "makespan": makespan,
                "speedup_vs_one_worker": ratio(total, makespan),
                "idle_percentage": percent(count * makespan - total, count * makespan),
            }
        )
    longest = sum(max(graph.durations, default=0) for graph in graphs)
    return {"worker_simulation": rows, "unbounded_workers_speedup": ratio(total, longest)}


def split_speedup(durations: Sequence[int], first_later: int) -> float:
    """Best case of running ``durations[:first_later]`` and ``durations[first_later:]`` side by side."""
    first, later = sum(durations[:first_later]), sum(durations[first_later:])
    return ratio(first + later, max(first, later))
