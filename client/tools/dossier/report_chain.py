"""The sections only a ``chain`` source has: BAL ceiling, pre-execution oracle, measured speedup.

Each section is a list of (heading, explanation, headers, rows) parts rendered
once as Markdown and once as HTML, so both reports say the same thing.
"""

from __future__ import annotations

from typing import Any

from . import report_html, report_markdown
from .dossier import Dossier

Part = tuple[str, str, list[str], list[list[Any]]]

CEILING_TEXT = (
    "With a BAL, every transaction can start from the state the BAL claims before it: no transaction "
    "waits for another, so only the worker count bounds the speedup. Same list scheduling as the "
    "execution view's simulation (canonical order, duration = gas), without dependencies."
)
ORACLE_TEXT = (
    "Access sets predicted before execution from the transaction envelope alone (sender, recipient or "
    "created address, EIP-2930 access list, EIP-7702 authorities) against the execution view's exact "
    "sets. Precision: predicted keys execution touched; recall: touched keys that were predicted. "
    "Pairs: conflicting pairs the predicted sets give against the execution view's."
)
MEASURED_TEXT = {
    "this run": (
        "balrex's BAL path runs a block's first transactions in the node's process and the rest in the "
        "later-part worker, from the state the BAL claims at the split; this dossier imported the chain "
        "that way. Measured speedup = serial exec ms / split exec ms, both from this run: split is the "
        "executor's whole span (the later part's merge and the checks included), serial the same span "
        "less its wait for the later part plus the part's time in the worker. "
    ),
    "two runs": (
        "balrex's BAL path runs a block's first transactions in the node's process and the rest in the "
        "later-part worker, from the state the BAL claims at the split. Measured speedup = exec ms of the "
        "block on the BAL path run whole (import-bench --with-bal --no-parallel) / exec ms split "
        "(import-bench --with-bal); exec is the executor's whole span, the later part's merge and the "
        "checks included. "
    ),
}
NOT_MEASURED_TEXT = (
    "No block ran split in this run: a bench chain's blocks run whole, on both cores, each on the "
    "state its BALs claim (--measure-split imports the chain on the node's split BAL path instead), "
    "EF fixtures take the streaming path, a data dir's stored blocks are executed whole, and a block "
    "too small for a later part runs whole on the BAL path. "
    "--bench-split and --bench-whole (import-bench --with-bal runs of the same chain, split and "
    "--no-parallel; balrex export writes a data dir's chain as a bench chain) measure it."
)
PREDICTED_TEXT = (
    "Predicted: balrex's split at best (block gas / larger part's gas); BAL ceiling "
    "and dependency-aware simulation, both for 2 workers. One sample per block per side."
)
MEASURED_HEADING = "Measured BAL-parallel speedup (2 workers)"
#: the per-block exec ms the split is measured against, by method
BASELINE = {"this run": ("serial_exec_ms", "serial exec"), "two runs": ("whole_exec_ms", "whole exec")}


def ceiling_part(execution: Dossier, ceiling: dict[str, Any]) -> Part:
    dependent = {
        row["workers"]: row["speedup_vs_one_worker"] for row in execution.fields["worker_simulation"]
    }
    rows: list[list[Any]] = [
        [row["workers"], row["speedup_vs_one_worker"], dependent[row["workers"]], row["idle_percentage"]]
        for row in ceiling["worker_simulation"]
    ]
    rows.append(
        [
            "unbounded",
            ceiling["unbounded_workers_speedup"],
            execution.fields["theoretical_parallelism_ceiling_by_gas"],
            None,
        ]
    )
    return (
        "BAL ceiling",
        CEILING_TEXT,
        ["workers", "speedup with a BAL", "speedup, execution-view dependencies", "idle % with a BAL"],
        rows,
    )


def oracle_part(oracle: dict[str, Any]) -> Part:
    labels = {
        "keys": "keys",
        "account_keys": "account keys",
        "storage_keys": "storage keys",
        "conflict_pairs": "conflicting pairs",
    }
    rows: list[list[Any]] = [
        [
            label,
            oracle[name]["predicted"],
            oracle[name]["exact"],
            oracle[name]["both"],
            oracle[name]["precision_percentage"],
            oracle[name]["recall_percentage"],
        ]
        for name, label in labels.items()
    ]
    return (
        "Pre-execution oracle",
        ORACLE_TEXT,
        ["", "predicted", "exact", "both", "precision %", "recall %"],
        rows,
    )


def measured_parts(measured: dict[str, Any]) -> list[Part]:
    method = measured["method"]
    baseline_key, baseline_label = BASELINE[method]
    total: list[list[Any]] = [
        ["blocks split", measured["split_blocks"]],
        [f"measured speedup (sum {baseline_label} / sum split exec)", measured["measured_speedup"]],
        ["balrex's split at best (sum gas / sum larger part's gas)", measured["predicted_split_speedup"]],
    ]
    blocks: list[list[Any]] = [
        [
            block["block_number"],
            block["tx_count"],
            block["later_txs"],
            block[baseline_key],
            block["split_exec_ms"],
            block["measured_speedup"],
            block["predicted_split_speedup"],
            block["bal_ceiling_speedup"],
            block["simulated_speedup"],
        ]
        for block in measured["blocks"]
    ]
    return [
        (
            MEASURED_HEADING,
            MEASURED_TEXT[method] + PREDICTED_TEXT,
            ["", "value"],
            total,
        ),
        (
            "Per block",
            "",
            [
                "block",
                "txs",
                "later txs",
                f"{baseline_label} ms",
                "split exec ms",
                "measured",
                "split at best",
                "BAL ceiling, 2",
                "simulated, 2",
            ],
            blocks,
        ),
    ]


def chain_parts(
    execution: Dossier, ceiling: dict[str, Any], oracle: dict[str, Any], measured: dict[str, Any] | None
) -> list[Part]:
    parts = [ceiling_part(execution, ceiling), oracle_part(oracle)]
    if measured is None:
        return parts + [(MEASURED_HEADING, NOT_MEASURED_TEXT, ["", "value"], [["blocks split", 0]])]
    return parts + measured_parts(measured)


def parts_markdown(parts: list[Part]) -> str:
    lines: list[str] = []
    for heading, text, headers, rows in parts:
        lines += [f"## {heading}", ""] + ([text, ""] if text else [])
        lines += report_markdown.table(headers, rows)
    return "\n".join(lines)


def anchor(heading: str) -> str:
    """The id of a section's heading, so a link (or a screenshot) can open the page there."""
    return "".join(c if c.isalnum() else "-" for c in heading.lower()).strip("-")


def parts_html(parts: list[Part]) -> str:
    return "".join(
        f'<h2 id="{anchor(heading)}">{heading}</h2>'
        + (f"<p class=note>{text}</p>" if text else "")
        + report_html.table(headers, rows)
        for heading, text, headers, rows in parts
    )
