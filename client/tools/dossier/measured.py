"""balrex's measured BAL-parallel speedup per block, beside what the simulations predict for 2 workers.

balrex's BAL path splits a block in two: the node's process runs the first
part of its transactions while the later-part worker runs the rest from the
state the BAL claims at the split. The measured speedup of a block is

    exec ms of the block on the BAL path run whole (``import-bench --with-bal --no-parallel``)
    / exec ms of the same block on the BAL path split (``import-bench --with-bal``),

both taken from import-bench's per-block timings, so warmer, merkleizer
worker and checks are the same on both sides and only the split differs.
``exec`` is the executor's whole span (first transaction to last check, the
later part's hand-over and merge included). Two runs on a shared machine
carry noise; a block's figure is one sample.

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


def measured_vs_predicted(graphs: Sequence[BlockGraph], runs: MeasuredRuns) -> dict[str, Any]:
    """Per block and in total: measured speedup of the split, and the three 2-worker predictions.

    Blocks too small to be split (no later part) are listed without a measured speedup and left
    out of the totals.
    """
    split, whole = runs.split, runs.whole
    split_rows, whole_rows = runs.split_rows, runs.whole_rows
    blocks = []
    whole_ms = split_ms = 0.0
    gas = larger_part_gas = 0
    for graph in graphs:
        number = graph.block.number
        split_row = _row(number, split_rows, graph, split)
        whole_row = _row(number, whole_rows, graph, whole)
        if whole_row.get("later_txs"):
            raise MeasuredError(f"{whole}: block {number} ran split; make that run with --no-parallel")
        later_txs = split_row.get("later_txs") or 0
        was_split = later_txs > 0 and not split_row.get("fallback")
        first_later = graph.tx_count - later_txs
        durations = graph.durations
        total = sum(durations)
        blocks.append(
            {
                "block_number": number,
                "tx_count": graph.tx_count,
                "later_txs": later_txs,
                "whole_exec_ms": whole_row["exec_ms"],
                "split_exec_ms": split_row["exec_ms"],
                "measured_speedup": _over(whole_row["exec_ms"], split_row["exec_ms"]) if was_split else None,
                "predicted_split_speedup": split_speedup(durations, first_later) if was_split else None,
                "bal_ceiling_speedup": ratio(
                    total, simulate(independent(graph), WORKERS, "canonical").makespan
                ),
                "simulated_speedup": ratio(total, simulate(graph, WORKERS, "canonical").makespan),
            }
        )
        if was_split:
            whole_ms += whole_row["exec_ms"]
            split_ms += split_row["exec_ms"]
            gas += total
            larger_part_gas += max(sum(durations[:first_later]), sum(durations[first_later:]))
    split_blocks = [block for block in blocks if block["measured_speedup"] is not None]
    return {
        "workers": WORKERS,
        "split_blocks": len(split_blocks),
        "measured_speedup": _over(whole_ms, split_ms) if split_blocks else None,
        "predicted_split_speedup": ratio(gas, larger_part_gas) if split_blocks else None,
        "blocks": blocks,
        "sources": {"split": str(split), "whole": str(whole)},
    }
