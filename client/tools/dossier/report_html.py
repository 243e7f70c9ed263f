"""The dossier as one self-contained HTML page: summary, waves and speedup drawn as inline SVG, tables.

No script, no external file: the page opens offline. The waves picture shows
each drawn block's dependency levels as columns (a transaction is a box in
the column of its wave, coloured by its conflict degree; dependency edges are
drawn when there are few enough to read).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from .analysis import BlockGraph
from .dossier import Dossier, range_title, ratio
from .schedule import STRATEGIES

WAVE_BLOCKS = 6
MAX_EDGES_DRAWN = 300
STRATEGY_COLOURS = {"canonical": "#1f77b4", "gas_lpt": "#ff7f0e", "critical_path": "#2ca02c"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1160px;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px;background:#fafafa}
.card b{display:block;font-size:1.3em}.card span{color:#666;font-size:.85em}
table{border-collapse:collapse;margin:8px 0;font-size:.88em}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f2f2f2}
td.l,th{text-align:left}td.l{overflow-wrap:anywhere}code{font-size:.85em}.note{color:#666;font-size:.9em}
svg{display:block;margin:2px 0 14px}.cap{font-size:.85em}
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(str(value))


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A table; text cells are left-aligned, numbers right-aligned."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=l' if isinstance(cell, str) else ''}>{_fmt(cell)}</td>" for cell in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _degree_colour(degree: int, top: int) -> str:
    if degree == 0:
        return "#b8d4ea"
    share = degree / top if top else 1.0
    return f"hsl({int(50 - 50 * share)},85%,{int(62 - 20 * share)}%)"


def _waves_svg(graph: BlockGraph, top_degree: int) -> str:
    widths = graph.wave_widths
    waves, tallest = len(widths), max(widths, default=1)
    column = max(1.0, min(26.0, 1080 / max(waves, 1)))
    row = max(2.0, min(16.0, 320 / tallest))
    height = tallest * row + 4
    places: dict[int, tuple[float, float]] = {}
    filled = [0] * waves
    boxes = []
    for position, wave in enumerate(graph.waves):
        x, y = 2 + wave * column, 2 + filled[wave] * row
        filled[wave] += 1
        places[position] = (x, y)
        tx = graph.block.transactions[position]
        boxes.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(column - 1, 1):.1f}" height="{max(row - 1, 1):.1f}" '
            f'fill="{_degree_colour(graph.conflict_degrees[position], top_degree)}"><title>tx {tx.tx_index}, '
            f"wave {wave}, conflict degree {graph.conflict_degrees[position]}, "
            f"duration {graph.durations[position]}</title></rect>"
        )
    edges = []
    if sum(map(len, graph.predecessors)) <= MAX_EDGES_DRAWN:
        for position, before in enumerate(graph.predecessors):
            x2, y2 = places[position]
            for earlier in before:
                x1, y1 = places[earlier]
                edges.append(
                    f'<line x1="{x1 + column - 1:.1f}" y1="{y1 + row / 2:.1f}" x2="{x2:.1f}" '
                    f'y2="{y2 + row / 2:.1f}" stroke="#555" stroke-opacity=".45"/>'
                )
    label = (
        f"block {graph.block.number}: {graph.tx_count} txs, {waves} waves, widest {tallest}, "
        f"{graph.conflict_pair_count} conflict pairs"
    )
    return (
        f"<div class=cap>{escape(label)}</div>"
        f'<svg width="{4 + waves * column:.0f}" height="{height:.0f}" role="img" aria-label="waves">'
        f"{''.join(edges)}{''.join(boxes)}</svg>"
    )


def _speedup_svg(dossier: Dossier) -> str:
    rows = dossier.fields["scheduler_ablation"]
    bound = dossier.fields["worker_simulation"][0]["critical_path_bound"]
    total = sum(sum(graph.durations) for graph in dossier.graphs)
    ceiling = ratio(total, bound)
    counts = list(dossier.workers)
    top = max([ceiling] + [row["speedup_vs_canonical_one_worker"] for row in rows]) * 1.15 or 1.0
    width, height, left, bottom = 560, 300, 50, 40
    plot_w, plot_h = width - left - 150, height - bottom - 20

    def x(index: int) -> float:
        return left + (plot_w * index / (len(counts) - 1) if len(counts) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return 20 + plot_h * (1 - value / top)

    parts = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" stroke="#333"/>',
        f'<line x1="{left}" y1="20" x2="{left}" y2="{y(0):.1f}" stroke="#333"/>',
        f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="12" text-anchor="middle">workers</text>',
        f'<text x="12" y="{20 + plot_h / 2}" font-size="12" transform="rotate(-90 12 {20 + plot_h / 2})" '
        'text-anchor="middle">speedup</text>',
    ]
    for index, count in enumerate(counts):
        parts.append(
            f'<text x="{x(index):.1f}" y="{y(0) + 16:.1f}" font-size="11" text-anchor="middle">{count}</text>'
        )
    step = 0.5 if top <= 3 else float(math.ceil(top / 8))
    for tick in (step * number for number in range(int(top / step) + 1)):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:g}</text>'
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#eee"/>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(ceiling):.1f}" x2="{left + plot_w}" y2="{y(ceiling):.1f}" '
        f'stroke="#999" stroke-dasharray="5,4"/><text x="{left + 6}" y="{y(ceiling) - 5:.1f}" '
        f'font-size="11">ceiling {ceiling:.2f}x</text>'
    )
    for number, strategy in enumerate(STRATEGIES):
        colour = STRATEGY_COLOURS[strategy]
        points = [
            (x(index), y(row["speedup_vs_canonical_one_worker"]))
            for index, row in enumerate(row for row in rows if row["strategy"] == strategy)
        ]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>' for px, py in points]
        legend_y = 30 + 18 * number
        parts.append(
            f'<rect x="{left + plot_w + 8}" y="{legend_y + 14}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{left + plot_w + 24}" y="{legend_y + 20}" font-size="11">{strategy}</text>'
        )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="speedup against workers">'
        f"{''.join(parts)}</svg>"
    )


def render_html(dossier: Dossier, appendix: str = "") -> str:
    """The page for ``dossier``; ``appendix`` (HTML) goes before the warnings."""
    fields = dossier.fields
    cards = [
        ("transactions", fields["tx_count"], f"{fields['block_count']} blocks"),
        (
            "conflict pairs",
            f"{fields['conflict_percentage']:.2f}%",
            f"{fields['conflict_pair_count']:,} pairs",
        ),
        ("gas-weighted conflicts", fields["gas_weighted_conflict_percentage"], "% of pair gas"),
        ("overlapping txs", f"{fields['overlapping_tx_percentage']:.2f}%", "share a key with another"),
        ("waves", fields["wave_count"], f"widest {fields['max_wave_width']}"),
        ("ceiling by txs", f"{fields['theoretical_parallelism_ceiling_by_tx']:.2f}x", "txs / critical path"),
        ("ceiling by gas", fields["theoretical_parallelism_ceiling_by_gas"], "gas / gas critical path"),
        (
            "critical path (gas)",
            fields["gas_weighted_critical_path"],
            f"of {_fmt(fields['total_gas_used'])} gas",
        ),
    ]
    card_html = "".join(
        f"<div class=card><span>{escape(title)}</span><b>{_fmt(value, 2)}</b>"
        f"<span>{escape(str(note))}</span></div>"
        for title, value, note in cards
    )
    drawn = sorted(dossier.graphs, key=lambda graph: (-graph.critical_path, graph.block.number))[:WAVE_BLOCKS]
    top_degree = max((max(graph.conflict_degrees, default=0) for graph in dossier.graphs), default=0)
    waves = "".join(_waves_svg(graph, top_degree) for graph in sorted(drawn, key=lambda g: g.block.number))
    more = len(dossier.graphs) - len(drawn)
    waves_note = (
        f"<p class=note>The {len(drawn)} blocks with the longest critical path are drawn; {more} more are in "
        "the JSON.</p>"
        if more
        else ""
    )
    simulation = table(
        ["workers", "makespan", "speedup", "idle %", "bound", "interpretation"],
        [
            [r["workers"], r["makespan"], r["speedup_vs_one_worker"], r["idle_percentage"]]
            + [r["critical_path_bound"], r["interpretation"]]
            for r in fields["worker_simulation"]
        ],
    )
    ablation = table(
        ["strategy", "workers", "makespan", "speedup", "idle %", "ready-queue wait", "vs canonical %"],
        [
            [r["strategy"], r["workers"], r["makespan"], r["speedup_vs_canonical_one_worker"]]
            + [r["idle_percentage"], r["ready_queue_wait_units"], r["improvement_vs_canonical_percent"]]
            for r in fields["scheduler_ablation"]
        ],
    )
    worst = table(
        ["block", "tx", "hash", "wave", "conflict degree", "duration"],
        [
            [
                r["block_number"],
                r["tx_index"],
                r["tx_hash"],
                r["wave"],
                r["conflict_degree"],
                r["duration_units"],
            ]
            for r in fields["worst_serializing_txs"]
        ],
    )
    contracts = table(
        ["contract", "txs", "slots", "gas", "conflict contribution"],
        [
            [r["address"], r["touching_txs"], r["unique_slots"], r["gas_of_touching_txs"]]
            + [r["conflict_contribution"]]
            for r in fields["top_hot_contracts"]
        ],
    )
    slots = table(
        ["contract", "slot", "txs", "gas", "conflict contribution"],
        [
            [r["address"], r["slot"], r["touching_txs"], r["gas_of_touching_txs"], r["conflict_contribution"]]
            for r in fields["top_hot_storage_slots"]
        ],
    )
    concentration = fields["contention_concentration"]
    warnings = "".join(f"<li>{escape(text)}</li>" for text in fields["warnings"])
    title = f"Parallelism dossier: {range_title(dossier)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><h1>{escape(title)}</h1><p class=note>{escape(fields["provenance"])}</p>
<div class=cards>{card_html}</div>
<h2>Waves</h2><p class=note>Columns are dependency levels (a transaction runs after every conflicting
earlier one); boxes are transactions, blue without conflicts, yellow to red by conflict degree.</p>
{waves_note}{waves}
<h2>Speedup against workers</h2>{_speedup_svg(dossier)}
<h2>Worker simulation (canonical order)</h2>{simulation}
<h2>Scheduler ablation</h2>{ablation}
<h2>Worst serializing transactions</h2>{worst}
<h2>Hot contracts</h2>{contracts}
<h2>Hot storage slots</h2>{slots}
<p>The top 1 / 5 / 10 keys cause {concentration["top_1_conflict_percent"]:.1f}% /
{concentration["top_5_conflict_percent"]:.1f}% / {concentration["top_10_conflict_percent"]:.1f}% of conflict
contributions.</p>
{appendix}
{f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else ""}
</body></html>
"""
