"""The dossier as Markdown: summary, simulation and ablation tables, worst serializing txs, hot lists."""

from __future__ import annotations

from typing import Any

from .dossier import Dossier, range_title


def _value(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_value(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(dossier: Dossier) -> str:
    """A Markdown document of ``dossier`` (numbers to three decimals; the JSON keeps them exact)."""
    fields = dossier.fields
    lines = [
        f"# Parallelism dossier: {range_title(dossier)}",
        "",
    ]
    if fields["provenance"]:
        lines += [f"Provenance: {fields['provenance']}", ""]
    lines += ["## Summary", ""]
    summary = [
        ("blocks", fields["block_count"]),
        ("transactions", fields["tx_count"]),
        ("accesses (distinct observations)", fields["total_accesses"]),
        ("total gas used", fields["total_gas_used"]),
        ("contracts / storage slots", f"{fields['unique_contracts']} / {fields['unique_storage_slots']}"),
        (
            "conflict pairs",
            f"{fields['conflict_pair_count']} of {fields['possible_pair_count']} "
            f"({_value(fields['conflict_percentage'])}%)",
        ),
        ("gas-weighted conflict %", fields["gas_weighted_conflict_percentage"]),
        (
            "overlapping transactions",
            f"{fields['overlapping_tx_count']} ({_value(fields['overlapping_tx_percentage'])}%)",
        ),
        (
            "waves (critical path in txs) / max wave width",
            f"{fields['wave_count']} / {fields['max_wave_width']}",
        ),
        ("critical path by gas", fields["gas_weighted_critical_path"]),
        ("parallelism ceiling by txs", fields["theoretical_parallelism_ceiling_by_tx"]),
        ("parallelism ceiling by gas", fields["theoretical_parallelism_ceiling_by_gas"]),
    ]
    lines += table(["metric", "value"], [list(row) for row in summary])
    lines += ["## Worker simulation (canonical order)", ""]
    lines += table(
        ["workers", "makespan", "speedup", "idle %", "bound", "interpretation"],
        [
            [
                row["workers"],
                row["makespan"],
                row["speedup_vs_one_worker"],
                row["idle_percentage"],
                row["critical_path_bound"],
                row["interpretation"],
            ]
            for row in fields["worker_simulation"]
        ],
    )
    lines += ["## Scheduler ablation", ""]
    lines += table(
        ["strategy", "workers", "makespan", "speedup", "idle %", "ready-queue wait", "vs canonical %"],
        [
            [
                row["strategy"],
                row["workers"],
                row["makespan"],
                row["speedup_vs_canonical_one_worker"],
                row["idle_percentage"],
                row["ready_queue_wait_units"],
                row["improvement_vs_canonical_percent"],
            ]
            for row in fields["scheduler_ablation"]
        ],
    )
    lines += ["## Worst serializing transactions", ""]
    lines += table(
        ["block", "tx", "hash", "wave", "conflict degree", "duration"],
        [
            [
                row["block_number"],
                row["tx_index"],
                f"`{row['tx_hash']}`",
                row["wave"],
                row["conflict_degree"],
                row["duration_units"],
            ]
            for row in fields["worst_serializing_txs"]
        ],
    )
    lines += ["## Hot contracts", ""]
    lines += table(
        ["contract", "txs", "slots", "gas", "conflict contribution"],
        [
            [
                f"`{row['address']}`",
                row["touching_txs"],
                row["unique_slots"],
                row["gas_of_touching_txs"],
                row["conflict_contribution"],
            ]
            for row in fields["top_hot_contracts"]
        ],
    )
    lines += ["## Hot storage slots", ""]
    lines += table(
        ["contract", "slot", "txs", "gas", "conflict contribution"],
        [
            [
                f"`{row['address']}`",
                f"`{row['slot']}`",
                row["touching_txs"],
                row["gas_of_touching_txs"],
                row["conflict_contribution"],
            ]
            for row in fields["top_hot_storage_slots"]
        ],
    )
    concentration = fields["contention_concentration"]
    lines += [
        "Contention concentration: the top 1 / 5 / 10 keys cause "
        f"{_value(concentration['top_1_conflict_percent'], 1)}% / "
        f"{_value(concentration['top_5_conflict_percent'], 1)}% / "
        f"{_value(concentration['top_10_conflict_percent'], 1)}% of conflict contributions.",
        "",
    ]
    if fields["warnings"]:
        lines += ["## Warnings", ""] + [f"- {warning}" for warning in fields["warnings"]] + [""]
    return "\n".join(lines)
