"""balrex's measured BAL-parallel speedup per block, beside what the simulations predict for 2 workers.

balrex's BAL path splits a block in two: the node's process runs the first
part of its transactions while the later-part worker runs the rest from the
state the BAL claims at the split. Two ways to measure what that gains:

* **this run** (the default for a bench chain): the dossier imports the chain
  on that split path itself, so its own run gives both sides of every block:

      serial exec ms = exec ms - ms waiting for the later part + the later part's ms in the worker
      measured speedup = serial exec ms / exec ms

  ``exec`` is the executor's whole span (first transaction to last check, the
  later part's hand-over and merge included); serial is what the same executor
  would have spent had it run the later part's transactions itself, by the same
  run's clocks (the merge, which a whole run does not have, stays in).
* **two runs** (``--bench-split`` and ``--bench-whole``): exec ms of the block on
  the BAL path run whole (``import-bench --with-bal --no-parallel``) / exec ms
  of the same block split (``import-bench --with-bal``), from import-bench's
  per-block timings; warmer, merkleizer worker and checks are the same on
  both sides and only the split differs.

A block's figure is one sample (per side) on a shared machine.

Beside it, for the same block: the best case of balrex's own split (gas of
the block over the larger part's gas), the BAL ceiling for 2 workers (any
assignment, no dependencies) and the dependency-aware simulation for 2
workers (execution view: what a scheduler without a BAL could reach).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis import BlockGraph
from .ceiling import independent, split_speedup
from .chain import BlockRun
from .dossier import ratio
from .schedule import simulate

WORKERS = 2
RUN = "with_bal"


class MeasuredError(ValueError):
    """An import-bench JSON that does not fit: no BAL run, a block missing or different, split or not."""


def bal_path_blocks(path: Path) -> dict[int, dict[str, Any]]:
    """The BAL path's per-block rows of an import-bench JSON, by block number."""
    try:
        report = json.loads(path.read_text())
        rows = report["runs"][RUN]["blocks"]
    except (OSError, ValueError) as exc:
        raise MeasuredError(f"{path}: not an import-bench JSON ({exc})") from None
    except (KeyError, TypeError):
        raise MeasuredError(f"{path}: no BAL-path run; make it with import-bench --with-bal --json") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) and "number" in row for row in rows):
        raise MeasuredError(f"{path}: the BAL-path run's blocks are not import-bench block rows")
    return {row["number"]: row for row in rows}


@dataclass(frozen=True)
class MeasuredRuns:
    """The two import-bench runs, read (and checked to be BAL-path runs) before the long import starts."""

    split: Path
    whole: Path
    split_rows: dict[int, dict[str, Any]]
    whole_rows: dict[int, dict[str, Any]]


def load_measured(split: Path, whole: Path) -> MeasuredRuns:
    """``split``: import-bench JSON of the BAL path with its later part; ``whole``: with --no-parallel."""
    return MeasuredRuns(split, whole, bal_path_blocks(split), bal_path_blocks(whole))


def _row(number: int, rows: dict[int, dict[str, Any]], graph: BlockGraph, path: Path) -> dict[str, Any]:
    """The run's row of the analyzed block; the same block has the same number and transaction count.

    (Gas is not compared: from Amsterdam on the header's gas used is not the receipts' sum.)
    """
    row = rows.get(number)
    if row is None:
        raise MeasuredError(f"{path}: block {number} is not in its BAL-path run")
    if row.get("txs") != graph.tx_count:
        raise MeasuredError(
            f"{path}: block {number} has {row.get('txs')} transactions, the analyzed one {graph.tx_count}"
        )
    if row.get("exec_ms") is None:
        raise MeasuredError(f"{path}: block {number} has no exec time")
    return row


def _over(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class BlockTiming:
    """One block's exec ms without the split (``baseline_ms``) and split."""

    later_txs: int
    #: whether the block ran split (a fallback ran it whole again after its later part failed)
    was_split: bool
    baseline_ms: float
    split_ms: float


def measured_vs_predicted(graphs: Sequence[BlockGraph], runs: MeasuredRuns) -> dict[str, Any]:
    """Two runs: per block and in total, whole exec over split exec, and the three 2-worker predictions.

    Blocks too small to be split (no later part) are listed without a measured speedup and left
    out of the totals.
    """
    timings = []
    for graph in graphs:
        number = graph.block.number
        split_row = _row(number, runs.split_rows, graph, runs.split)
        whole_row = _row(number, runs.whole_rows, graph, runs.whole)
        if whole_row.get("later_txs"):
            raise MeasuredError(f"{runs.whole}: block {number} ran split; make that run with --no-parallel")
        later_txs = split_row.get("later_txs") or 0
        was_split = later_txs > 0 and not split_row.get("fallback")
        timings.append(BlockTiming(later_txs, was_split, whole_row["exec_ms"], split_row["exec_ms"]))
    return _compare(
        graphs, timings, "two runs", "whole_exec_ms", {"split": str(runs.split), "whole": str(runs.whole)}
    )


def measured_in_run(graphs: Sequence[BlockGraph], runs: Sequence[BlockRun]) -> dict[str, Any]:
    """This run: per block and in total, serial exec over split exec, and the three 2-worker predictions."""
    timings = []
    for graph, run in zip(graphs, runs, strict=True):
        if run.number != graph.block.number or run.tx_count != graph.tx_count:
            raise MeasuredError(f"block {run.number}'s timing does not belong to block {graph.block.number}")
        exec_ms = 1000 * run.exec_seconds
        split = run.split
        if split is None:
            timings.append(BlockTiming(0, False, exec_ms, exec_ms))
        else:
            serial_ms = exec_ms + 1000 * (split.part_seconds - split.wait_seconds)
            timings.append(BlockTiming(split.later_txs, True, serial_ms, exec_ms))
    return _compare(
        graphs, timings, "this run", "serial_exec_ms", {"split": "this run", "serial": "this run"}
    )


def _compare(
    graphs: Sequence[BlockGraph],
    timings: Sequence[BlockTiming],
    method: str,
    baseline_name: str,
    sources: dict[str, str],
) -> dict[str, Any]:
    blocks = []
    baseline_ms = split_ms = 0.0
    gas = larger_part_gas = 0
    for graph, timing in zip(graphs, timings, strict=True):
        was_split = timing.was_split
        first_later = graph.tx_count - timing.later_txs
        durations = graph.durations
        total = sum(durations)
        blocks.append(
            {
                "block_number": graph.block.number,
                "tx_count": graph.tx_count,
                "later_txs": timing.later_txs,
                baseline_name: timing.baseline_ms,
                "split_exec_ms": timing.split_ms,
                "measured_speedup": _over(timing.baseline_ms, timing.split_ms) if was_split else None,
                "predicted_split_speedup": split_speedup(durations, first_later) if was_split else None,
                "bal_ceiling_speedup": ratio(
                    total, simulate(independent(graph), WORKERS, "canonical").makespan
                ),
                "simulated_speedup": ratio(total, simulate(graph, WORKERS, "canonical").makespan),
            }
        )
        if was_split:
            baseline_ms += timing.baseline_ms
            split_ms += timing.split_ms
            gas += total
            larger_part_gas += max(sum(durations[:first_later]), sum(durations[first_later:]))
    split_blocks = [block for block in blocks if block["measured_speedup"] is not None]
    return {
        "workers": WORKERS,
        "method": method,
        "split_blocks": len(split_blocks),
        "measured_speedup": _over(baseline_ms, split_ms) if split_blocks else None,
        "predicted_split_speedup": ratio(gas, larger_part_gas) if split_blocks else None,
        "blocks": blocks,
        "sources": sources,
    }
