"""Pictures of a ``balrex import-bench`` run: an HTML page and a standalone SVG timeline.

The bench records, per run ("baseline", "with_bal", "py_evm") and per block, how long each
pipeline stage took and *when* it ran relative to the block's arrival. Numbers alone hide the
point of the BAL path (the merkleizer and the later-part worker running beside execution), so
this module draws it: one lane per block, stage bars on a time axis shared by all runs, one row
per thread or process inside the lane, so what ran in parallel and the merkle drain after exec
are visible at a glance.

Only the standard library is used, the HTML needs no scripts and fetches nothing, and every
string taken from the run's JSON is escaped, so a report can be produced and opened anywhere.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_LABELS: dict[str, str] = {
    "baseline": "baseline (streaming)",
    "with_bal": "with BAL",
    "py_evm": "py-evm import_block",
}
RUN_COLOURS: dict[str, str] = {"baseline": "#4e79a7", "with_bal": "#e15759", "py_evm": "#76b7b2"}
OTHER_RUN_COLOUR = "#9c755f"
MISSING = "—"

# Pipeline order; the legend follows it.
STAGES: tuple[str, ...] = ("prepare", "exec", "warmer", "merkle", "later", "store")
# Runs without a stage split (py-evm) still get one bar per block: the whole import.
WHOLE_BLOCK = "block"
STAGE_COLOURS: dict[str, str] = {
    "prepare": "#9aa0a6",
    "exec": "#4e79a7",
    "warmer": "#f28e2b",
    "merkle": "#59a14f",
    "later": "#e15759",
    "store": "#b07aa1",
    WHOLE_BLOCK: "#76b7b2",
}
STAGE_LEGEND: dict[str, str] = {
    "prepare": "prepare (decode + pre-checks)",
    "exec": "exec",
    "warmer": "warmer (BAL prefetch)",
    "merkle": "merkle (state root)",
    "later": "later part (worker process)",
    "store": "store (atomic write)",
    WHOLE_BLOCK: "whole block (no stage split)",
}
# Where a stage's bar sits inside its lane, as (top, height) fractions of the bar band: one
# row per thread or process, so whatever overlaps in time is drawn one above the other and the
# parallelism of a block reads off vertically. Top to bottom: the warmer thread, the node's own
# sequence (prepare, exec, store), the later-part worker, the merkleizer. A merkle bar lying
# under the exec bar ran concurrently with execution; its part past exec's end is the drain.
STAGE_BANDS: dict[str, tuple[float, float]] = {
    "warmer": (0.0, 0.18),
    "prepare": (0.22, 0.34),
    "exec": (0.22, 0.34),
    "store": (0.22, 0.34),
    WHOLE_BLOCK: (0.0, 1.0),
    "later": (0.6, 0.18),
    "merkle": (0.82, 0.18),
}
STAGE_DRAW_ORDER: tuple[str, ...] = ("prepare", "exec", "store", "warmer", "later", "merkle")

SVG_WIDTH_PX = 960
LABEL_GUTTER_PX = 70
RIGHT_MARGIN_PX = 24
PLOT_WIDTH_PX = SVG_WIDTH_PX - LABEL_GUTTER_PX - RIGHT_MARGIN_PX
# Beyond this many blocks a panel shows an even sample: thousands of 1-px lanes say nothing and
# make the README image megabytes large.
MAX_LANES = 120
# Four rows share a lane (see STAGE_BANDS), so lanes are taller than one bar would need.
MAX_LANES_HEIGHT_PX = 640
MIN_LANE_PX = 4.5
MAX_LANE_PX = 18.0
LABEL_SPACING_PX = 11.0
PANEL_HEADING_PX = 26
PANEL_AXIS_PX = 36
WALL_CHART_HEIGHT_PX = 240
WALL_CHART_TOP_PX = 30
WALL_CHART_BOTTOM_PX = 40

# (row label, summary key, decimals, whether the value is already a percentage, higher is better)
SUMMARY_ROWS: tuple[tuple[str, str, int, bool, bool], ...] = (
    ("wall time (s)", "wall_s", 3, False, False),
    ("Mgas/s", "mgas_per_s", 2, False, True),
    ("ms/block", "ms_per_block", 2, False, False),
    ("exec (ms)", "exec_ms", 1, False, False),
    ("warmer (ms)", "warmer_ms", 1, False, False),
    ("merkle concurrent (ms)", "merkle_concurrent_ms", 1, False, True),
    ("merkle drain (ms)", "merkle_drain_ms", 1, False, False),
    ("merkle overlap %", "merkle_overlap_pct", 1, True, True),
    ("store (ms)", "store_ms", 1, False, False),
    ("warm-cache hit %", "warm_hit_pct", 1, True, True),
    ("CPU, node (s)", "cpu_node_s", 2, False, False),
    ("CPU, workers (s)", "cpu_workers_s", 2, False, False),
    ("cores busy", "cores_busy", 2, False, True),
)

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem; margin: 0.5rem 0; }
dt { color: #666; }
dd { margin: 0; font-family: ui-monospace, monospace; }
table.summary { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
table.summary th, table.summary td { border: 1px solid #ddd; padding: 0.3rem 0.7rem; }
table.summary td { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th[scope=row] { text-align: left; font-weight: normal; }
td.better { color: #1b7f3b; }
td.worse { color: #b3261e; }
p.note { color: #555; max-width: 60rem; }
svg { display: block; margin: 0.5rem 0 1rem; }
"""


def esc(value: Any) -> str:
    """Text from the run's JSON, made safe for HTML and SVG (both text and attribute values)."""
    return html.escape(str(value), quote=True)


def as_number(value: Any) -> float | None:
    """The value as a float, or None when it does not apply (null, missing, not a finite number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def format_number(value: Any, decimals: int, percent: bool = False) -> str:
    """A table cell: grouped digits, fixed decimals, "—" for a value that does not apply."""
    number = as_number(value)
    if number is None:
        return MISSING
    return f"{number:,.{decimals}f}{'%' if percent else ''}"


def format_field(value: Any) -> str:
    """A header value: integers with grouped digits, structures as JSON, anything else as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def present_runs(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The runs in the report, known ones in a fixed order so the baseline always comes first."""
    runs = report.get("runs") or {}
    known = [key for key in RUN_LABELS if key in runs]
    others = [key for key in runs if key not in RUN_LABELS]
    return [(key, runs[key]) for key in known + others if isinstance(runs[key], Mapping)]


def run_label(key: str) -> str:
    """The human name of a run; an unknown run key (a future bench mode) is shown as is."""
    return RUN_LABELS.get(key, key)


def run_blocks(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A run's per-block records; a run recorded without them (or with junk entries) draws no lanes."""
    return [block for block in run.get("blocks") or [] if isinstance(block, Mapping)]


def delta_cell(baseline: Any, with_bal: Any, percent: bool) -> str:
    """with_bal against baseline: relative change in %, or the difference in points for a percentage."""
    base, bal = as_number(baseline), as_number(with_bal)
    if base is None or bal is None:
        return MISSING
    if percent:
        return f"{bal - base:+.1f} pp"
    if base == 0:
        return MISSING
    return f"{(bal - base) / base * 100:+.1f}%"


def delta_class(baseline: Any, with_bal: Any, higher_is_better: bool) -> str:
    """CSS class colouring the delta by whether the BAL path improved on the baseline."""
    base, bal = as_number(baseline), as_number(with_bal)
    if base is None or bal is None or base == bal:
        return ""
    return "better" if (bal > base) == higher_is_better else "worse"


def summary_table(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The summary table: one column per run, plus a delta column when both streaming paths ran."""
    summaries = {key: run.get("summary") or {} for key, run in runs}
    with_delta = "baseline" in summaries and "with_bal" in summaries
    header = "".join(f'<th scope="col">{esc(run_label(key))}</th>' for key in summaries)
    if with_delta:
        header += '<th scope="col">delta (with BAL vs baseline)</th>'
    rows = []
    for label, field, decimals, percent, higher_is_better in SUMMARY_ROWS:
        cells = "".join(
            f"<td>{format_number(summary.get(field), decimals, percent)}</td>"
            for summary in summaries.values()
        )
        if with_delta:
            base, bal = summaries["baseline"].get(field), summaries["with_bal"].get(field)
            delta = delta_cell(base, bal, percent)
            css = delta_class(base, bal, higher_is_better) if delta != MISSING else ""
            cells += f'<td class="{f"delta {css}" if css else "delta"}">{delta}</td>'
        rows.append(f'<tr data-field="{field}"><th scope="row">{label}</th>{cells}</tr>')
    return (
        f'<table class="summary"><thead><tr><th scope="col">metric</th>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


ROUNDS_COLUMNS = ("run", "min s", "median s", "cores busy", "each round, s")


def rounds_caption(rounds: Mapping[str, Any]) -> str:
    order = ", ".join(str(item) for item in rounds.get("order") or [])
    return f"{rounds.get('count')} alternated rounds (run order {order})"


def rounds_rows(rounds: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The rounds table's rows (:data:`ROUNDS_COLUMNS`): each run's wall times, then each ratio."""
    rows: list[tuple[str, ...]] = []
    busy = rounds.get("cores_busy_median") or {}
    for key, walls in (rounds.get("wall_s") or {}).items():
        each = ", ".join(format_number(wall, 3) for wall in walls.get("runs") or [])
        median = format_number(walls.get("median"), 3)
        rows.append(
            (
                run_label(key),
                format_number(walls.get("min"), 3),
                median,
                format_number(busy.get(key), 2),
                each,
            )
        )
    for name, values in (rounds.get("ratios") or {}).items():
        numerator, _, denominator = str(name).partition("/")
        each = ", ".join(format_number(value, 3) for value in values.get("per_round") or [])
        label = f"{run_label(numerator)} / {run_label(denominator)}"
        rows.append(
            (label, format_number(values.get("min"), 3), format_number(values.get("median"), 3), "", each)
        )
    return rows


def rounds_section(report: Mapping[str, Any]) -> str:
    """The HTML section of the alternated rounds; empty for a report made in one round."""
    rounds = report.get("rounds")
    if not isinstance(rounds, Mapping):
        return ""
    header = "".join(f'<th scope="col">{esc(column)}</th>' for column in ROUNDS_COLUMNS)
    body = "".join(
        f'<tr><th scope="row">{esc(row[0])}</th>{"".join(f"<td>{esc(cell)}</td>" for cell in row[1:])}</tr>'
        for row in rounds_rows(rounds)
    )
    return (
        f"<section><h2>{esc(rounds_caption(rounds))}</h2>"
        '<p class="note">Every run was made once a round, each going first in every other round. '
        "A ratio's min and median divide the two runs' mins and medians; each round's divides the two "
        "runs made back to back; cores busy is its median over the rounds. The summary and the "
        "timelines show each run's median round.</p>"
        f'<table class="summary"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></section>'
    )


def stage_interval(timeline: Mapping[str, Any], stage: str) -> tuple[float, float] | None:
    """A stage's [start, end] ms, or None when the stage did not run or was not recorded."""
    span = timeline.get(stage)
    if not isinstance(span, list | tuple) or len(span) != 2:
        return None
    start, end = as_number(span[0]), as_number(span[1])
    if start is None or end is None:
        return None
    return start, max(start, end)


def block_bars(block: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """(stage, start ms, end ms) to draw for one block, in drawing order.

    A block with no stage times but a wall time (py-evm) gets one whole-block bar, so every run
    has something on the shared axis to compare against.
    """
    timeline = block.get("timeline") or {}
    bars = []
    for stage in STAGE_DRAW_ORDER:
        span = stage_interval(timeline, stage)
        if span is not None:
            bars.append((stage, *span))
    wall = as_number(block.get("wall_ms"))
    if not bars and wall is not None:
        bars.append((WHOLE_BLOCK, 0.0, max(wall, 0.0)))
    return bars


def sampled_blocks(blocks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """At most MAX_LANES blocks, evenly spread over the chain and always keeping the first and last."""
    if len(blocks) <= MAX_LANES:
        return list(blocks)
    stride = (len(blocks) - 1) / (MAX_LANES - 1)
    return [blocks[round(index * stride)] for index in range(MAX_LANES)]


def nice_axis(maximum: float, target_ticks: int = 6) -> tuple[float, float]:
    """(axis end, tick step) with a 1/2/5 x 10^k step, so tick labels are round numbers."""
    if maximum <= 0:
        return 1.0, 0.2
    raw_step = maximum / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    return math.ceil(maximum / step - 1e-9) * step, step


def tick_values(axis_end: float, step: float, axis_start: float = 0.0) -> list[float]:
    """Tick positions from the axis start (0 or a negative multiple of ``step``) to its end.

    Rounded so float steps print as 0.2, not 0.20000000001.
    """
    first = int(round(axis_start / step))
    return [round(index * step, 9) for index in range(first, int(round(axis_end / step)) + 1)]


@dataclass(frozen=True, slots=True)
class TimelineScale:
    """One time axis and lane pitch for every run's panel, so baseline and BAL path line up.

    The axis starts before 0 when a stage started before its block was received:
    the merkleizer's, when blocks are imported back to back (it starts on a
    block once the previous block's root is known).
    """

    axis_ms: float
    tick_ms: float
    lane_px: float
    start_ms: float = 0.0

    def x(self, ms: float) -> float:
        """Pixel x of a time; times past the axis end are cut at the edge (py-evm can be far slower)."""
        shown = min(max(ms, self.start_ms), self.axis_ms) - self.start_ms
        return LABEL_GUTTER_PX + shown * PLOT_WIDTH_PX / (self.axis_ms - self.start_ms)

    @property
    def label_every(self) -> int:
        """Label every n-th lane so block numbers do not overprint on thin lanes."""
        return max(1, math.ceil(LABEL_SPACING_PX / self.lane_px))


def timeline_scale(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> TimelineScale:
    """The shared scale: the axis spans the staged runs; whole-block bars only widen it when alone.

    Basing the axis on the stage timelines keeps the baseline-vs-BAL comparison readable even
    when py-evm takes many times longer; its longer bars are cut at the axis end (and the panel
    heading says how long its slowest block took).
    """
    staged_ends: list[float] = []
    whole_ends: list[float] = []
    earliest = 0.0
    for _, run in runs:
        for block in run_blocks(run):
            for stage, start, end in block_bars(block):
                (whole_ends if stage == WHOLE_BLOCK else staged_ends).append(end)
                earliest = min(earliest, start)
    latest = max(staged_ends or whole_ends or [0.0])
    axis_end, tick_ms = nice_axis(latest - earliest)
    axis_ms = axis_end if earliest == 0 else math.ceil(latest / tick_ms - 1e-9) * tick_ms
    start_ms = -math.ceil(-earliest / tick_ms - 1e-9) * tick_ms if earliest < 0 else 0.0
    most_lanes = max((len(sampled_blocks(run_blocks(run))) for _, run in runs), default=1)
    lane_px = min(MAX_LANE_PX, max(MIN_LANE_PX, MAX_LANES_HEIGHT_PX / max(most_lanes, 1)))
    return TimelineScale(axis_ms=axis_ms, tick_ms=tick_ms, lane_px=round(lane_px, 2), start_ms=start_ms)


def svg_open(width: float, height: float, label: str) -> str:
    """An <svg> start tag usable both inline in HTML and as a standalone file."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{esc(label)}" '
        'font-family="system-ui, sans-serif" font-size="10">'
    )


def bar_rect(stage: str, start: float, end: float, lane_top: float, scale: TimelineScale) -> str:
    """One stage bar; data attributes carry the times so tests and readers can check the geometry.

    A bar running past the axis end gets a small arrowhead there, so a cut bar is not read as
    ending at the axis.
    """
    band_px = scale.lane_px * 0.8
    top_fraction, height_fraction = STAGE_BANDS[stage]
    x, y, height = scale.x(start), lane_top + band_px * top_fraction, band_px * height_fraction
    bar = (
        f'<rect class="bar" data-stage="{stage}" data-start-ms="{start:g}" data-end-ms="{end:g}" '
        f'x="{x:.2f}" y="{y:.2f}" width="{scale.x(end) - x:.2f}" height="{height:.2f}" '
        f'fill="{STAGE_COLOURS[stage]}">'
        f"<title>{stage}: {start:.2f}–{end:.2f} ms ({end - start:.2f} ms)</title></rect>"
    )
    if end <= scale.axis_ms:
        return bar
    edge = scale.x(scale.axis_ms)
    return (
        f'{bar}<polygon class="clipped" points="{edge:.2f},{y:.2f} {edge + 5:.2f},{y + height / 2:.2f} '
        f'{edge:.2f},{y + height:.2f}" fill="#333"/>'
    )


def panel_heading(key: str, blocks: Sequence[Mapping[str, Any]], shown: int, scale: TimelineScale) -> str:
    """Run label, how many blocks the lanes show, and a note when bars are cut at the axis end."""
    parts = [f"{run_label(key)}: {len(blocks)} blocks"]
    if shown < len(blocks):
        parts.append(f"showing {shown} evenly sampled lanes")
    longest = max((end for block in blocks for _, _, end in block_bars(block)), default=0.0)
    if longest > scale.axis_ms:
        parts.append(f"bars cut at {scale.axis_ms:g} ms, slowest block {longest:,.1f} ms")
    return " · ".join(parts)


def time_axis(top: float, bottom: float, scale: TimelineScale) -> list[str]:
    """Grid lines over the lanes, the axis line, and ms tick labels under it."""
    parts = [
        f'<line x1="{LABEL_GUTTER_PX}" y1="{bottom:.2f}" x2="{scale.x(scale.axis_ms):.2f}" '
        f'y2="{bottom:.2f}" stroke="#555"/>'
    ]
    for tick in tick_values(scale.axis_ms, scale.tick_ms, scale.start_ms):
        x = scale.x(tick)
        parts.append(
            f'<line class="grid" x1="{x:.2f}" y1="{top:.2f}" x2="{x:.2f}" y2="{bottom + 4:.2f}" '
            'stroke="#ddd"/>'
            f'<text class="tick" x="{x:.2f}" y="{bottom + 15:.2f}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{LABEL_GUTTER_PX + PLOT_WIDTH_PX / 2:.2f}" y="{bottom + 30:.2f}" text-anchor="middle" '
        'fill="#555">ms since block received</text>'
    )
    return parts


def timeline_panel(key: str, run: Mapping[str, Any], scale: TimelineScale) -> tuple[str, float]:
    """One run's lanes (one per shown block) with heading and time axis, drawn from y = 0.

    Returns the SVG fragment and its height, so callers can wrap it alone (HTML) or stack
    several (the standalone SVG).
    """
    blocks = run_blocks(run)
    shown = sampled_blocks(blocks)
    parts = [
        f'<text class="panel-heading" x="4" y="16" font-size="13" font-weight="bold">'
        f"{esc(panel_heading(key, blocks, len(shown), scale))}</text>"
    ]
    lanes_top = float(PANEL_HEADING_PX)
    lanes_bottom = lanes_top + len(shown) * scale.lane_px
    parts.extend(time_axis(lanes_top, lanes_bottom, scale))
    for index, block in enumerate(shown):
        lane_top = lanes_top + index * scale.lane_px
        number = block.get("number")
        label = ""
        if index % scale.label_every == 0:
            label = (
                f'<text x="{LABEL_GUTTER_PX - 6}" y="{lane_top + scale.lane_px * 0.4:.2f}" '
                f'text-anchor="end" dominant-baseline="middle">{esc(number)}</text>'
            )
        bars = "".join(
            bar_rect(stage, start, end, lane_top, scale) for stage, start, end in block_bars(block)
        )
        parts.append(f'<g class="lane" data-run="{esc(key)}" data-block="{esc(number)}">{label}{bars}</g>')
    return "".join(parts), lanes_bottom + PANEL_AXIS_PX


def stages_drawn(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """The stages that appear in some lane, in pipeline order, so the legend lists only those."""
    drawn = {stage for _, run in runs for block in run_blocks(run) for stage, _, _ in block_bars(block)}
    return [stage for stage in (*STAGES, WHOLE_BLOCK) if stage in drawn]


def legend_items(entries: Sequence[tuple[str, str]], top: float) -> tuple[str, float]:
    """A row-wrapping legend of (colour, text) swatches; returns the fragment and its height."""
    parts, x, y = [], float(LABEL_GUTTER_PX), top
    for colour, text in entries:
        width = 22 + 6.2 * len(text)
        if x + width > SVG_WIDTH_PX - RIGHT_MARGIN_PX and x > LABEL_GUTTER_PX:
            x, y = float(LABEL_GUTTER_PX), y + 18
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="14" height="10" fill="{colour}"/>'
            f'<text x="{x + 18:.1f}" y="{y + 9:.1f}" font-size="11">{esc(text)}</text>'
        )
        x += width + 12
    return "".join(parts), y + 18 - top


def stage_legend(runs: Sequence[tuple[str, Mapping[str, Any]]], top: float) -> tuple[str, float]:
    """The stage colour key, shared by the HTML page and the standalone SVG."""
    entries = [(STAGE_COLOURS[stage], STAGE_LEGEND[stage]) for stage in stages_drawn(runs)]
    return legend_items(entries, top)


def chain_line(report: Mapping[str, Any]) -> str:
    """One-line chain description for the standalone SVG's subtitle."""
    chain = report.get("chain") or {}
    fields = [
        f"{name} {format_field(chain[name])}" for name in ("fork", "blocks", "txs", "gas") if name in chain
    ]
    return " · ".join(fields)


def page_title(report: Mapping[str, Any]) -> str:
    """Title naming the chain file, so several saved reports can be told apart in tabs and READMEs."""
    path = (report.get("chain") or {}).get("path")
    return f"balrex import-bench: {path}" if path is not None else "balrex import-bench"


def render_timeline_svg(report: Mapping[str, Any]) -> str:
    """A standalone SVG of every run's stage timeline, stacked on one shared axis, for the README."""
    runs = present_runs(report)
    scale = timeline_scale(runs)
    parts = [
        f'<text x="4" y="22" font-size="16" font-weight="bold">{esc(page_title(report))}</text>',
        f'<text x="4" y="40" font-size="11" fill="#555">{esc(chain_line(report))}</text>',
    ]
    legend, legend_height = stage_legend(runs, top=52)
    parts.append(legend)
    y = 52 + legend_height + 8
    for key, run in runs:
        panel, height = timeline_panel(key, run, scale)
        parts.append(f'<g class="panel" transform="translate(0,{y:.2f})">{panel}</g>')
        y += height
    height = math.ceil(y + 8)
    background = f'<rect class="background" width="{SVG_WIDTH_PX}" height="{height}" fill="#ffffff"/>'
    return f"{svg_open(SVG_WIDTH_PX, height, page_title(report))}{background}{''.join(parts)}</svg>\n"


def wall_chart(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Wall ms per block, one line per run, on a shared y axis; every block, no sampling."""
    series = {
        key: [(index, as_number(block.get("wall_ms"))) for index, block in enumerate(run_blocks(run))]
        for key, run in runs
    }
    walls = [wall for points in series.values() for _, wall in points if wall is not None]
    if not walls:
        return '<p class="note">No per-block wall times recorded.</p>'
    axis_end, step = nice_axis(max(walls), target_ticks=4)
    plot_bottom = WALL_CHART_HEIGHT_PX - WALL_CHART_BOTTOM_PX
    plot_height = plot_bottom - WALL_CHART_TOP_PX
    last_index = max(len(points) for points in series.values()) - 1

    def point(index: int, wall: float) -> str:
        x = LABEL_GUTTER_PX + (index / last_index if last_index else 0.5) * PLOT_WIDTH_PX
        return f"{x:.2f},{plot_bottom - wall / axis_end * plot_height:.2f}"

    parts = []
    for tick in tick_values(axis_end, step):
        y = plot_bottom - tick / axis_end * plot_height
        parts.append(
            f'<line x1="{LABEL_GUTTER_PX}" y1="{y:.2f}" x2="{LABEL_GUTTER_PX + PLOT_WIDTH_PX}" '
            f'y2="{y:.2f}" stroke="#ddd"/>'
            f'<text x="{LABEL_GUTTER_PX - 6}" y="{y + 3:.2f}" text-anchor="end">{tick:g}</text>'
        )
    for key, points in series.items():
        coords = " ".join(point(index, wall) for index, wall in points if wall is not None)
        parts.append(
            f'<polyline class="wall-line" data-run="{esc(key)}" points="{coords}" fill="none" '
            f'stroke="{RUN_COLOURS.get(key, OTHER_RUN_COLOUR)}" stroke-width="1.5"/>'
        )
    numbers = [block.get("number") for block in run_blocks(runs[0][1])]
    if numbers:
        parts.append(
            f'<text x="{LABEL_GUTTER_PX}" y="{plot_bottom + 14}">{esc(numbers[0])}</text>'
            f'<text x="{LABEL_GUTTER_PX + PLOT_WIDTH_PX}" y="{plot_bottom + 14}" text-anchor="end">'
            f"{esc(numbers[-1])}</text>"
        )
    parts.append(
        f'<text x="{LABEL_GUTTER_PX + PLOT_WIDTH_PX / 2:.2f}" y="{plot_bottom + 18}" text-anchor="middle" '
        'fill="#555">block (chain order)</text>'
        f'<text x="4" y="{WALL_CHART_TOP_PX - 12}" fill="#555">wall ms</text>'
    )
    legend, _ = legend_items(
        [(RUN_COLOURS.get(key, OTHER_RUN_COLOUR), run_label(key)) for key in series], top=plot_bottom + 26
    )
    height = WALL_CHART_HEIGHT_PX + 10
    return f"{svg_open(SVG_WIDTH_PX, height, 'wall ms per block')}{''.join(parts)}{legend}</svg>"


def definition_list(mapping: Mapping[str, Any]) -> str:
    """Every key of a header section (chain, machine), so fields the bench adds later still show."""
    items = "".join(
        f"<dt>{esc(key)}</dt><dd>{esc(format_field(value))}</dd>" for key, value in mapping.items()
    )
    return f"<dl>{items}</dl>"


def render_html(report: Mapping[str, Any]) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts) for one import-bench report.

    ``report`` is the bench's JSON: ``{"chain": {...}, "machine": {...}, "runs": {"baseline": RUN,
    "with_bal": RUN, "py_evm": RUN}}``, any subset of runs, any numeric field possibly null.
    """
    runs = present_runs(report)
    scale = timeline_scale(runs)
    machine = report.get("machine")
    machine_html = definition_list(machine) if isinstance(machine, Mapping) else "<p>not recorded</p>"
    legend, legend_height = stage_legend(runs, top=4)
    panels = []
    for key, run in runs:
        panel, height = timeline_panel(key, run, scale)
        panels.append(
            f"{svg_open(SVG_WIDTH_PX, math.ceil(height), f'{run_label(key)} timeline')}{panel}</svg>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(page_title(report))}</title><style>{PAGE_CSS}</style></head><body>"
        f"<header><h1>{esc(page_title(report))}</h1>"
        f"<h2>Chain</h2>{definition_list(report.get('chain') or {})}"
        f"<h2>Machine</h2>{machine_html}</header>"
        f"<section><h2>Summary</h2>{summary_table(runs)}</section>"
        f"{rounds_section(report)}"
        "<section><h2>Per-block stage timeline</h2>"
        '<p class="note">One lane per block; x is ms since the block was received, on the same scale '
        "for every run. Each lane has one row per thread or process, so what ran at the same time is "
        "drawn one above the other: the warmer's thread (orange, top), the node's own prepare, exec "
        "and store (middle), the later-part worker running the block's later transactions (red) and "
        "the merkleizer (green, bottom). Merkle under the exec bar ran concurrently with execution; "
        "past the end of exec it is the drain before the state root is ready. Left of 0 it ran "
        "before the block was received: blocks imported back to back have the merkleizer start on a "
        "block once the root of the block before it is known, while that block finishes.</p>"
        f"{svg_open(SVG_WIDTH_PX, math.ceil(legend_height + 8), 'legend')}{legend}</svg>"
        f"{''.join(panels)}</section>"
        f"<section><h2>Wall time per block</h2>{wall_chart(runs)}</section>"
        "</body></html>\n"
    )


def write_report(report: Mapping[str, Any], path: Path) -> None:
    """Write the report as HTML (.html/.htm) or as the standalone timeline SVG (.svg)."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html(report)
    elif suffix == ".svg":
        text = render_timeline_svg(report)
    else:
        raise ValueError(
            f"cannot write an import-bench report to {path}: use a .html, .htm or .svg file name"
        )
    path.write_text(text, encoding="utf-8")
