"""The import-bench report: HTML page and standalone SVG built from a synthetic bench result."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from client.tools.import_bench.report import render_html, render_timeline_svg, write_report

SVG_NS = "{http://www.w3.org/2000/svg}"
VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link"}
STAGES = ("prepare", "exec", "warmer", "merkle", "later", "store")
BLOCK_STAGE_FIELDS = (
    "exec_ms",
    "warmer_ms",
    "merkle_concurrent_ms",
    "merkle_drain_ms",
    "merkle_overlap_pct",
    "store_ms",
    "prepare_ms",
)
SUMMARY_STAGE_FIELDS = (*BLOCK_STAGE_FIELDS[:-1], "warm_hit_pct")


def staged_block(number: int, stage_ms: dict[str, tuple[float, float] | None]) -> dict[str, Any]:
    """A block of a streaming run: per-stage times derived from its timeline."""
    timeline = {stage: list(stage_ms[stage]) if stage_ms.get(stage) else None for stage in STAGES}

    def length(stage: str) -> float | None:
        span = stage_ms.get(stage)
        return span[1] - span[0] if span else None

    return {
        "number": number,
        "gas": 1_000_000,
        "txs": 10,
        "wall_ms": max(span[1] for span in stage_ms.values() if span),
        "exec_ms": length("exec"),
        "warmer_ms": length("warmer"),
        "merkle_concurrent_ms": None,
        "merkle_drain_ms": None,
        "merkle_overlap_pct": None,
        "store_ms": length("store"),
        "prepare_ms": length("prepare"),
        "timeline": timeline,
    }


def py_evm_block(number: int, wall_ms: float) -> dict[str, Any]:
    """py-evm reports only the wall time; every stage field is null and there is no timeline."""
    stage_fields = dict.fromkeys(BLOCK_STAGE_FIELDS)
    return {"number": number, "gas": 1_000_000, "txs": 10, "wall_ms": wall_ms} | stage_fields


def summary(wall_s: float, **fields: float | None) -> dict[str, Any]:
    """A run summary, null wherever the test does not set a field."""
    return (
        dict.fromkeys(SUMMARY_STAGE_FIELDS)
        | {"blocks": 3, "gas": 3_000_000, "wall_s": wall_s, "mgas_per_s": 3 / wall_s}
        | fields
    )


def baseline_blocks(count: int, first: int = 100) -> list[dict[str, Any]]:
    blocks = []
    for index in range(count):
        exec_end = 10.0 + 2 * (index % 7)
        stages = {
            "prepare": (0.0, 1.0),
            "exec": (1.0, exec_end),
            "merkle": (exec_end, exec_end + 6.0),
            "store": (exec_end + 6.0, exec_end + 7.0),
        }
        blocks.append(staged_block(first + index, stages))
    return blocks


def bal_blocks(count: int, first: int = 100) -> list[dict[str, Any]]:
    blocks = []
    for index in range(count):
        exec_end = 8.0 + 2 * (index % 7)
        stages = {
            "prepare": (0.0, 1.0),
            "warmer": (1.0, 3.0),
            "exec": (1.0, exec_end),
            "later": (1.5, exec_end - 2.0),
            "merkle": (2.0, exec_end + 1.5),
            "store": (exec_end + 1.5, exec_end + 2.5),
        }
        blocks.append(staged_block(first + index, stages))
    return blocks


def make_report(blocks: int = 3, path: str = "chains/test.rlp") -> dict[str, Any]:
    return {
        "chain": {"path": path, "fork": "amsterdam", "blocks": blocks, "txs": 30, "gas": 3_000_000},
        "machine": {"cpus": 4, "python": "3.11.9", "platform": "Linux"},
        "runs": {
            "baseline": {
                "summary": summary(2.0, exec_ms=12.0, merkle_drain_ms=6.0, merkle_overlap_pct=0.0),
                "blocks": baseline_blocks(blocks),
            },
            "with_bal": {
                "summary": summary(
                    1.5, exec_ms=9.0, warmer_ms=2.0, merkle_drain_ms=1.5, merkle_overlap_pct=80.0
                ),
                "blocks": bal_blocks(blocks),
            },
            "py_evm": {
                "summary": summary(6.0),
                "blocks": [py_evm_block(100 + index, 40.0) for index in range(blocks)],
            },
        },
    }


class StrictTreeChecker(HTMLParser):
    """Fails on mismatched or unclosed tags, which ``html.parser`` alone silently tolerates."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open_tags: list[str] = []
        self.lanes: list[dict[str, str | None]] = []
        self.bars: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.record(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.record(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        assert self.open_tags and self.open_tags[-1] == tag, f"</{tag}> closes {self.open_tags[-1:]}"
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def record(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "g" and attributes.get("class") == "lane":
            self.lanes.append(attributes)
        if tag == "rect" and attributes.get("class") == "bar":
            self.bars.append(attributes)


def parse_html(page: str) -> StrictTreeChecker:
    checker = StrictTreeChecker()
    checker.feed(page)
    checker.close()
    assert checker.open_tags == [], f"unclosed: {checker.open_tags}"
    return checker


def summary_row(page: str, field: str) -> list[str]:
    """The cells of one summary-table row, as text."""
    row_start = page.index(f'<tr data-field="{field}">')
    row = page[row_start : page.index("</tr>", row_start)]
    return [cell.split(">", 1)[1].split("</td", 1)[0] for cell in row.split("<td")[1:]]


def test_html_is_well_formed_with_one_lane_per_block_per_run() -> None:
    page = render_html(make_report(blocks=3))
    checker = parse_html(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>balrex import-bench: chains/test.rlp</title>" in page
    for run in ("baseline", "with_bal", "py_evm"):
        lanes = [lane["data-block"] for lane in checker.lanes if lane["data-run"] == run]
        assert lanes == ["100", "101", "102"]
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_summary_columns_delta_and_nulls() -> None:
    page = render_html(make_report())
    header = page[page.index("<thead>") : page.index("</thead>")]
    assert all(
        label in header for label in ("baseline (streaming)", "with BAL", "py-evm import_block", "delta")
    )
    assert header.index("baseline (streaming)") < header.index("with BAL") < header.index("py-evm")
    assert summary_row(page, "wall_s") == ["2.000", "1.500", "6.000", "-25.0%"]
    assert summary_row(page, "exec_ms") == ["12.0", "9.0", "—", "-25.0%"]
    # Null on the baseline: no delta can be computed.
    assert summary_row(page, "warmer_ms") == ["—", "2.0", "—", "—"]
    # A percentage compares in points, not as a relative change (0 -> 80 has no ratio).
    assert summary_row(page, "merkle_overlap_pct") == ["0.0%", "80.0%", "—", "+80.0 pp"]
    assert summary_row(page, "warm_hit_pct") == ["—", "—", "—", "—"]
    # Higher throughput is the better direction, lower wall time too.
    assert '<td class="delta better">+33.3%</td>' in page
    assert '<td class="delta better">-25.0%</td>' in page


def test_no_delta_column_without_both_streaming_runs() -> None:
    report = make_report()
    del report["runs"]["baseline"]
    page = render_html(report)
    parse_html(page)
    assert "delta" not in page[page.index("<thead>") : page.index("</thead>")]
    assert summary_row(page, "wall_s") == ["1.500", "6.000"]


def test_strings_from_the_input_are_escaped() -> None:
    report = make_report(path='<script>alert("x")</script>')
    report["machine"]["platform"] = "<b>&amp</b>"
    report["runs"]["baseline"]["blocks"][0]["number"] = '"><script>'
    page = render_html(report)
    checker = parse_html(page)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>&amp</b>" in "".join(checker.text)
    svg = render_timeline_svg(report)
    assert "<script" not in svg
    ET.fromstring(svg)


def test_bars_are_placed_in_proportion_to_the_timeline_on_one_shared_scale() -> None:
    report = make_report(blocks=3)
    bars = parse_html(render_html(report)).bars
    staged = [bar for bar in bars if bar["data-stage"] != "block"]
    assert {bar["data-stage"] for bar in staged} == set(STAGES)
    # Same px per ms for every bar of both runs, and the same origin: one shared axis.
    scales = {
        round(float(bar["width"]) / (float(bar["data-end-ms"]) - float(bar["data-start-ms"])), 2)
        for bar in staged
    }
    assert len(scales) == 1
    px_per_ms = scales.pop()
    origins = {round(float(bar["x"]) - float(bar["data-start-ms"]) * px_per_ms, 1) for bar in staged}
    assert len(origins) == 1
    # The times on the bars are the input's: every exec span of the input appears, at that scale.
    exec_spans = {
        tuple(bar[f"data-{end}-ms"] for end in ("start", "end"))
        for bar in staged
        if bar["data-stage"] == "exec"
    }
    for run in ("baseline", "with_bal"):
        for block in report["runs"][run]["blocks"]:
            start, end = block["timeline"]["exec"]
            assert (f"{start:g}", f"{end:g}") in exec_spans


def test_a_merkle_span_begun_before_its_block_widens_the_axis_to_the_left() -> None:
    """Blocks imported back to back: the merkleizer starts on a block while its parent finishes."""
    report = make_report(blocks=3)
    for block in report["runs"]["with_bal"]["blocks"]:
        block["timeline"]["merkle"] = [-7.5, -1.0]
    page = render_html(report)
    bars = parse_html(page).bars
    ahead = [bar for bar in bars if bar["data-stage"] == "merkle" and bar["data-start-ms"] == "-7.5"]
    received_x = {float(bar["x"]) for bar in bars if bar["data-start-ms"] == "0"}
    # Drawn at their times, left of 0 ms, not squeezed into a bar of no width at 0.
    assert len(ahead) == 3 and len(received_x) == 1
    assert all(float(bar["width"]) > 0 and float(bar["x"]) < min(received_x) for bar in ahead)
    ticks = ET.fromstring(render_timeline_svg(report)).iter(f"{SVG_NS}text")
    assert "-10" in {tick.text for tick in ticks}


def test_each_thread_or_process_has_its_own_row_and_overlaps_show_in_time() -> None:
    root = ET.fromstring(render_timeline_svg(make_report(blocks=1)))
    lane = next(g for g in root.iter(f"{SVG_NS}g") if g.get("data-run") == "with_bal")
    bars = {rect.get("data-stage"): rect for rect in lane.iter(f"{SVG_NS}rect")}

    def rows(stage: str) -> tuple[float, float]:
        top = float(bars[stage].get("y"))
        return top, top + float(bars[stage].get("height"))

    def columns(stage: str) -> tuple[float, float]:
        left = float(bars[stage].get("x"))
        return left, left + float(bars[stage].get("width"))

    # Top to bottom, without overlapping: warmer thread, the node's exec, later-part worker, merkleizer.
    order = ["warmer", "exec", "later", "merkle"]
    for upper, lower in zip(order, order[1:], strict=False):
        assert rows(upper)[1] <= rows(lower)[0], (upper, lower)
    assert rows("prepare") == rows("exec") == rows("store")
    # The later part runs inside exec's span; merkle starts inside it (concurrent) and ends past it (drain).
    exec_x, exec_end = columns("exec")
    later_x, later_end = columns("later")
    merkle_x, merkle_end = columns("merkle")
    assert exec_x < later_x < later_end < exec_end
    assert exec_x < merkle_x < exec_end < merkle_end


def test_a_run_without_later_parts_draws_and_lists_no_later_row() -> None:
    report = make_report(blocks=2)
    del report["runs"]["with_bal"]
    svg = render_timeline_svg(report)
    assert 'data-stage="later"' not in svg
    assert "later part" not in svg


def test_py_evm_without_timeline_gets_whole_block_bars_cut_at_the_shared_axis() -> None:
    report = make_report(blocks=2)
    for block in report["runs"]["py_evm"]["blocks"]:
        block.pop("timeline", None)
    page = render_html(report)
    bars = parse_html(page).bars
    whole = [bar for bar in bars if bar["data-stage"] == "block"]
    assert len(whole) == 2
    longest_staged = max(
        float(bar["x"]) + float(bar["width"]) for bar in bars if bar["data-stage"] != "block"
    )
    assert all(float(bar["x"]) + float(bar["width"]) >= longest_staged for bar in whole)
    assert "slowest block 40.0 ms" in page
    assert 'class="clipped"' in page


def test_standalone_svg_parses_and_has_background_title_legend() -> None:
    svg = render_timeline_svg(make_report(blocks=3))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    background = root.find(f"{SVG_NS}rect")
    assert background is not None and background.get("fill") == "#ffffff"
    texts = "".join(root.itertext())
    assert "balrex import-bench: chains/test.rlp" in texts
    legends = ("exec", "merkle (state root)", "warmer (BAL prefetch)", "later part")
    for legend in (*legends, "whole block (no stage split)"):
        assert legend in texts
    lanes = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "lane"]
    assert len(lanes) == 9


def test_three_hundred_blocks_stay_bounded() -> None:
    report = make_report(blocks=300)
    svg = render_timeline_svg(report)
    root = ET.fromstring(svg)
    assert int(root.get("height")) <= 2400
    assert len(svg) < 500_000
    lanes = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "lane"]
    assert 0 < len(lanes) <= 3 * 120
    # The sample spans the whole chain and says it is a sample.
    baseline_lanes = [g.get("data-block") for g in lanes if g.get("data-run") == "baseline"]
    assert baseline_lanes[0] == "100" and baseline_lanes[-1] == "399"
    assert "showing 120 evenly sampled lanes" in "".join(root.itertext())
    page = render_html(report)
    parse_html(page)
    assert len(page) < 600_000


def test_missing_machine_and_empty_runs_still_render() -> None:
    report = {"chain": {"path": "x.rlp", "fork": "prague", "blocks": 0, "txs": 0, "gas": 0}, "runs": {}}
    page = render_html(report)
    parse_html(page)
    assert "not recorded" in page
    ET.fromstring(render_timeline_svg(report))


def test_write_report_picks_the_format_by_suffix(tmp_path: Path) -> None:
    report = make_report()
    write_report(report, tmp_path / "bench.html")
    write_report(report, tmp_path / "bench.HTM")
    write_report(report, tmp_path / "bench.svg")
    assert (tmp_path / "bench.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "bench.HTM").read_text().startswith("<!DOCTYPE html>")
    ET.fromstring((tmp_path / "bench.svg").read_text())
    with pytest.raises(ValueError, match=r"\.html, \.htm or \.svg"):
        write_report(report, tmp_path / "bench.txt")
    assert not (tmp_path / "bench.txt").exists()
