"""The dossier of a block range: every metric, assembled from the per-block analysis.

Range figures are sums over blocks (pairs, conflicts, waves, critical paths,
makespans), except ``max_wave_width`` (the largest block's). Percentages are
``float(part) / float(whole) * 100``, in that order, so that the floats are the
ones other implementations of the same definitions print. A transaction's
duration is its gas used (at least 1), or 1 for every transaction when any
gas figure is missing; gas metrics are then ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .analysis import BlockGraph, analyze_block
from .hot import HotState
from .model import AccessSource
from .schedule import STRATEGIES, BlockSchedule, simulate

DEFAULT_WORKERS = (1, 2, 4, 8, 16)
REPORT_VERSION = "balrex-dossier-v1"
WORST_SERIALIZING = 10
GAS_MISSING = "gas is missing for some transactions: gas metrics are null, every duration is 1"


def percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent; 0.0 for an empty whole."""
    return float(part) / float(whole) * 100.0 if whole else 0.0


def ratio(numerator: int, denominator: int) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


@dataclass(frozen=True)
class Dossier:
    """The computed report (``fields``, JSON-ready) and the material the renderers draw from."""

    source: AccessSource
    workers: tuple[int, ...]
    graphs: tuple[BlockGraph, ...]
    #: (strategy, workers) -> one schedule per block
    schedules: dict[tuple[str, int], tuple[BlockSchedule, ...]]
    fields: dict[str, Any]


def _schedule_interpretation(makespan: int, bound: int, idle: float) -> str:
    if makespan == bound:
        return "dependency-bound: makespan is at the critical-path lower bound"
    if idle < 5.0:
        return "worker-bound: workers stay mostly occupied under observed dependencies"
    return "mixed: both dependencies and idle workers lengthen the schedule"


def _ablation_interpretation(strategy: str, workers: int, makespan: int, canonical: int, bound: int) -> str:
    if strategy == "canonical" and workers == 1:
        return "baseline canonical tx-order ready queue"
    if makespan == bound:
        return "at critical-path lower bound under observed dependencies"
    if strategy == "canonical":
        return f"canonical order is {percent(makespan - bound, bound):.1f}% above the critical-path bound"
    change = percent(abs(canonical - makespan), canonical)
    if makespan < canonical:
        return f"{strategy} shortens the canonical-order schedule by {change:.1f}%"
    if makespan == canonical:
        return f"{strategy} does not improve canonical order for this observed dependency graph"
    return f"{strategy} lengthens the canonical-order schedule by {change:.1f}%"


def range_title(dossier: Dossier) -> str:
    """What the reports are about: the source and its block range, or its chains when several.

    Blocks of several chains (EF tests) share their numbers: their range alone ("blocks 1-2")
    would read as two blocks.
    """
    source, fields = dossier.source, dossier.fields
    numbers = f"{fields['start_block']}-{fields['end_block']}"
    if source.chains > 1:
        return (
            f"{fields['chain']}: {fields['block_count']} blocks of {source.chains} chains (numbers {numbers})"
        )
    return f"{fields['chain']} blocks {numbers}"


def build_dossier(
    source: AccessSource,
    workers: Sequence[int] = DEFAULT_WORKERS,
    on_block: Callable[[int, int], None] | None = None,
) -> Dossier:
    """Analyze every block of ``source`` and simulate it for each worker count and strategy."""
    worker_counts = tuple(sorted(set(workers)))
    if not worker_counts or worker_counts[0] < 1:
        raise ValueError(f"worker counts must be at least 1: {list(workers)}")
    with_gas = source.gas_complete
    hot = HotState()
    graphs = []
    schedules: dict[tuple[str, int], list[BlockSchedule]] = {
        (strategy, count): [] for strategy in STRATEGIES for count in worker_counts
    }
    for done, block in enumerate(source.blocks, start=1):
        durations = tuple(max(tx.gas_used or 0, 1) if with_gas else 1 for tx in block.transactions)
        graph = analyze_block(block, durations, with_gas)
        graphs.append(graph)
        hot.add_block(graph)
        for strategy, count in schedules:
            schedules[(strategy, count)].append(simulate(graph, count, strategy))
        if on_block is not None:
            on_block(done, len(source.blocks))
    frozen = {key: tuple(value) for key, value in schedules.items()}
    fields = _fields(source, worker_counts, tuple(graphs), frozen, hot, with_gas)
    return Dossier(source, worker_counts, tuple(graphs), frozen, fields)


def _fields(
    source: AccessSource,
    worker_counts: tuple[int, ...],
    graphs: tuple[BlockGraph, ...],
    schedules: dict[tuple[str, int], tuple[BlockSchedule, ...]],
    hot: HotState,
    with_gas: bool,
) -> dict[str, Any]:
    transactions = [tx for block in source.blocks for tx in block.transactions]
    tx_count = len(transactions)
    total_duration = sum(sum(graph.durations) for graph in graphs)
    total_gas = sum(tx.gas_used or 0 for tx in transactions) if with_gas else None
    pairs = sum(graph.possible_pair_count for graph in graphs)
    conflicts = sum(graph.conflict_pair_count for graph in graphs)
    overlapping = sum(sum(graph.overlapping) for graph in graphs)
    critical_by_tx = sum(graph.wave_count for graph in graphs)
    #: the longest chain by duration, summed over blocks: by gas with gas, by transactions without
    duration_bound = sum(graph.critical_path for graph in graphs)
    gas_critical = duration_bound if with_gas else None

    gas_weighted = None
    if with_gas:
        weighted = [graph.gas_weighted_conflict for graph in graphs if graph.gas_weighted_conflict]
        conflicting = sum(pair[0] for pair in weighted)
        all_pairs = sum(pair[1] for pair in weighted)
        gas_weighted = percent(conflicting, all_pairs)

    source_counts = [block.source_tx_count for block in source.blocks]
    source_tx_count = None
    if any(count is not None for count in source_counts):
        source_tx_count = sum(
            len(block.transactions) if block.source_tx_count is None else block.source_tx_count
            for block in source.blocks
        )

    simulation = _worker_simulation(worker_counts, schedules, total_duration, duration_bound)
    slot_contributions, account_contributions = hot.slot_and_account_contributions()
    contracts = {address for graph in graphs for address, _ in graph.keys}
    slots = {key for graph in graphs for key in graph.keys if key[1] is not None}
    return {
        "report_version": REPORT_VERSION,
        "chain": source.chain,
        "provenance": source.provenance,
        "start_block": source.start_block,
        "end_block": source.end_block,
        "block_count": len(source.blocks),
        "tx_count": tx_count,
        "source_tx_count": source_tx_count,
        "tx_coverage_percentage": None if source_tx_count is None else percent(tx_count, source_tx_count),
        "total_gas_used": total_gas,
        "total_accesses": sum(tx.access_count for tx in transactions),
        "unique_contracts": len(contracts),
        "unique_storage_slots": len(slots),
        "conflict_pair_count": conflicts,
        "possible_pair_count": pairs,
        "conflict_percentage": percent(conflicts, pairs),
        "overlapping_tx_count": overlapping,
        "overlapping_tx_percentage": percent(overlapping, tx_count),
        "wave_count": critical_by_tx,
        "max_wave_width": max((max(graph.wave_widths, default=0) for graph in graphs), default=0),
        "gas_weighted_conflict_percentage": gas_weighted,
        "critical_path_length_by_tx": critical_by_tx,
        "gas_weighted_critical_path": gas_critical,
        "theoretical_parallelism_ceiling_by_tx": ratio(tx_count, critical_by_tx),
        "theoretical_parallelism_ceiling_by_gas": (
            ratio(total_gas, gas_critical) if total_gas is not None and gas_critical else None
        ),
        "top_hot_contracts": hot.top_contracts(with_gas),
        "top_hot_storage_slots": hot.top_slots(with_gas),
        "contention_concentration": hot.concentration(),
        "parallelism_loss_decomposition": {
            "hot_slot_conflict_contributions": slot_contributions,
            "account_level_conflict_contributions": account_contributions,
            # idle share at the largest worker count simulated: the capacity the dependencies leave unused
            "max_worker_idle_percentage": simulation[-1]["idle_percentage"],
        },
        "worst_serializing_txs": _worst_serializing(graphs),
        "worker_simulation": simulation,
        "scheduler_ablation": _ablation(worker_counts, schedules, graphs, total_duration, duration_bound),
        "workers": list(worker_counts),
        "blocks": [_block_fields(graph, with_gas) for graph in graphs],
        "warnings": list(source.warnings) + ([] if with_gas else [GAS_MISSING]),
    }


def _makespan(schedules: tuple[BlockSchedule, ...]) -> int:
    return sum(schedule.makespan for schedule in schedules)


def _idle(workers: int, makespan: int, total_duration: int) -> float:
    return percent(workers * makespan - total_duration, workers * makespan)


def _worker_simulation(
    worker_counts: tuple[int, ...],
    schedules: dict[tuple[str, int], tuple[BlockSchedule, ...]],
    total_duration: int,
    bound: int,
) -> list[dict[str, Any]]:
    """Canonical-order list scheduling per worker count; one worker always takes the total duration."""
    rows = []
    for count in worker_counts:
        makespan = _makespan(schedules[("canonical", count)])
        idle = _idle(count, makespan, total_duration)
        rows.append(
            {
                "workers": count,
                "makespan": makespan,
                "speedup_vs_one_worker": ratio(total_duration, makespan),
                "idle_percentage": idle,
                "critical_path_bound": bound,
                "interpretation": _schedule_interpretation(makespan, bound, idle),
            }
        )
    return rows


def _ablation(
    worker_counts: tuple[int, ...],
    schedules: dict[tuple[str, int], tuple[BlockSchedule, ...]],
    graphs: tuple[BlockGraph, ...],
    total_duration: int,
    bound: int,
) -> list[dict[str, Any]]:
    rows = []
    for strategy in STRATEGIES:
        for count in worker_counts:
            runs = schedules[(strategy, count)]
            makespan = _makespan(runs)
            canonical = _makespan(schedules[("canonical", count)])
            rows.append(
                {
                    "strategy": strategy,
                    "workers": count,
                    "makespan": makespan,
                    "speedup_vs_canonical_one_worker": ratio(total_duration, makespan),
                    "idle_percentage": _idle(count, makespan, total_duration),
                    "ready_queue_wait_units": sum(run.ready_queue_wait for run in runs),
                    "critical_path_bound": bound,
                    "improvement_vs_canonical_percent": percent(canonical - makespan, canonical),
                    "preserves_dependencies": all(
                        run.preserves_dependencies(graph) for run, graph in zip(runs, graphs, strict=True)
                    ),
                    "interpretation": _ablation_interpretation(strategy, count, makespan, canonical, bound),
                }
            )
    return rows


def _worst_serializing(graphs: tuple[BlockGraph, ...]) -> list[dict[str, Any]]:
    """Transactions with conflicts, by conflict degree, then duration (both descending), then position."""
    candidates = [
        (graph, position)
        for graph in graphs
        for position in range(graph.tx_count)
        if graph.conflict_degrees[position]
    ]
    candidates.sort(
        key=lambda item: (
            -item[0].conflict_degrees[item[1]],
            -item[0].durations[item[1]],
            item[0].block.number,
            item[0].block.transactions[item[1]].tx_index,
        )
    )
    return [
        {
            "block_number": graph.block.number,
            "tx_index": graph.block.transactions[position].tx_index,
            "tx_hash": graph.block.transactions[position].tx_hash,
            "wave": graph.waves[position],
            "conflict_degree": graph.conflict_degrees[position],
            "duration_units": graph.durations[position],
        }
        for graph, position in candidates[:WORST_SERIALIZING]
    ]


def _block_fields(graph: BlockGraph, with_gas: bool) -> dict[str, Any]:
    return {
        "block_number": graph.block.number,
        "tx_count": graph.tx_count,
        "source_tx_count": graph.block.source_tx_count,
        "gas_used": sum(tx.gas_used or 0 for tx in graph.block.transactions) if with_gas else None,
        "conflict_pair_count": graph.conflict_pair_count,
        "conflict_percentage": percent(graph.conflict_pair_count, graph.possible_pair_count),
        "overlapping_tx_count": sum(graph.overlapping),
        "wave_count": graph.wave_count,
        "max_wave_width": max(graph.wave_widths, default=0),
        "critical_path_length_by_tx": graph.wave_count,
        "gas_weighted_critical_path": graph.critical_path if with_gas else None,
    }
