"""The import-bench table in the terminal (pipeline.md §5's rows), with the report's formatting.

Rows, number formats and the delta rule (relative change; points for
percentages) come from :mod:`client.tools.import_bench.report`, so the terminal and
the HTML page always show the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from .report import (
    ROUNDS_COLUMNS,
    SUMMARY_ROWS,
    delta_cell,
    format_number,
    present_runs,
    rounds_caption,
    rounds_rows,
    run_label,
)


def summary_table(report: Mapping[str, Any]) -> Table:
    runs = present_runs(report)
    summaries = {key: run.get("summary") or {} for key, run in runs}
    with_delta = "baseline" in summaries and "with_bal" in summaries
    chain = report.get("chain", {})
    table = Table(
        title=f"import-bench: {chain.get('fork')} chain, {chain.get('blocks')} blocks, {chain.get('txs')} txs"
    )
    table.add_column("metric")
    for key in summaries:
        table.add_column(run_label(key), justify="right")
    if with_delta:
        table.add_column("delta", justify="right")
    for label, field, decimals, percent, _ in SUMMARY_ROWS:
        cells = [format_number(summary.get(field), decimals, percent) for summary in summaries.values()]
        if with_delta:
            cells.append(
                delta_cell(summaries["baseline"].get(field), summaries["with_bal"].get(field), percent)
            )
        table.add_row(label, *cells)
    return table


def rounds_table(rounds: Mapping[str, Any]) -> Table:
    """The alternated rounds' min and median wall times and ratios (``report["rounds"]``)."""
    table = Table(title=rounds_caption(rounds))
    for index, column in enumerate(ROUNDS_COLUMNS):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rounds_rows(rounds):
        table.add_row(*row)
    return table
