"""The execution view beside the BAL view: one comparison table, in Markdown and in HTML."""

from __future__ import annotations

from typing import Any

from . import report_html, report_markdown
from .dossier import Dossier

COMPARED = (
    ("conflict pairs", "conflict_pair_count"),
    ("conflict %", "conflict_percentage"),
    ("gas-weighted conflict %", "gas_weighted_conflict_percentage"),
    ("overlapping transactions", "overlapping_tx_count"),
    ("waves (critical path in txs)", "wave_count"),
    ("max wave width", "max_wave_width"),
    ("critical path by gas", "gas_weighted_critical_path"),
    ("ceiling by txs", "theoretical_parallelism_ceiling_by_tx"),
    ("ceiling by gas", "theoretical_parallelism_ceiling_by_gas"),
)

EXPLANATION = (
    "Execution view: every key each transaction touched (account keys for balance, nonce, code and "
    "existence reads, storage keys for slots) and the keys whose value it changed. BAL view: the block "
    "access list alone; its changes carry a blockAccessIndex, its reads do not, so it holds each "
    "transaction's writes only and sees write/write conflicts only."
)


def comparison_rows(execution: Dossier, bal_fields: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [[label, execution.fields[name], bal_fields[name]] for label, name in COMPARED]
    max_workers = execution.workers[-1]
    rows.append(
        [
            f"speedup on {max_workers} workers",
            execution.fields["worker_simulation"][-1]["speedup_vs_one_worker"],
            bal_fields["worker_simulation"][-1]["speedup_vs_one_worker"],
        ]
    )
    return rows


def difference_rows(difference: dict[str, Any]) -> list[list[Any]]:
    return [[name.replace("_", " "), value] for name, value in difference.items() if name != "examples"]


def views_markdown(execution: Dossier, bal_fields: dict[str, Any], difference: dict[str, Any]) -> str:
    lines = ["## Execution view and BAL view", "", EXPLANATION, ""]
    lines += report_markdown.table(["metric", "execution", "BAL"], comparison_rows(execution, bal_fields))
    lines += ["### Keys and pairs one view has and the other has not", ""]
    lines += report_markdown.table(["count", "value"], difference_rows(difference))
    if difference["examples"]:
        lines += ["### First differences", ""]
        lines += report_markdown.table(
            ["block", "tx", "key", "access", "seen by"],
            [
                [row["block_number"], row["tx_index"], f"`{row['key']}`", row["access"], row["seen_by"]]
                for row in difference["examples"]
            ],
        )
    return "\n".join(lines)


def views_html(execution: Dossier, bal_fields: dict[str, Any], difference: dict[str, Any]) -> str:
    examples = report_html.table(
        ["block", "tx", "key", "access", "seen by"],
        [
            [row["block_number"], row["tx_index"], row["key"], row["access"], row["seen_by"]]
            for row in difference["examples"]
        ],
    )
    return (
        f"<h2>Execution view and BAL view</h2><p>{EXPLANATION}</p>"
        + report_html.table(["metric", "execution", "BAL"], comparison_rows(execution, bal_fields))
        + "<h3>Keys and pairs one view has and the other has not</h3>"
        + report_html.table(["count", "value"], difference_rows(difference))
        + (f"<h3>First differences</h3>{examples}" if difference["examples"] else "")
    )
