"""``import-bench --rounds``: the alternated order, the median run, and the min/median/ratio arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from client.tools.import_bench.report import render_html, rounds_rows
from client.tools.import_bench.rounds import alternation, representative_round, rounds_summary


def _run(wall_s: float, cores_busy: float | None = 1.0) -> dict[str, Any]:
    return {"summary": {"wall_s": wall_s, "cores_busy": cores_busy}, "blocks": []}


def test_each_run_goes_first_in_every_other_round() -> None:
    order = alternation(["baseline", "with_bal"], 3)
    assert order == [
        ("baseline", 1),
        ("with_bal", 1),
        ("with_bal", 2),
        ("baseline", 2),
        ("baseline", 3),
        ("with_bal", 3),
    ]
    assert alternation(["baseline"], 2) == [("baseline", 1), ("baseline", 2)]


@pytest.mark.parametrize(
    ("walls", "chosen"),
    [([5.0], 0), ([3.0, 1.0, 2.0], 2), ([4.0, 1.0, 3.0, 2.0], 3), ([2.0, 2.0], 0)],
)
def test_the_report_shows_the_median_run(walls: list[float], chosen: int) -> None:
    """The run with the median wall; with an even count, the faster of the two middle ones."""
    assert representative_round(walls) == chosen


def test_min_median_and_ratios_of_the_rounds() -> None:
    runs = {
        "baseline": [_run(8.0), _run(10.0), _run(9.0)],
        "with_bal": [_run(4.0, 1.8), _run(6.0, 1.9), _run(4.4, None)],
    }
    order = ["baseline-1", "with_bal-1", "with_bal-2", "baseline-2", "baseline-3", "with_bal-3"]
    summary = rounds_summary(runs, order)
    assert summary["count"] == 3 and summary["order"] == order
    assert summary["wall_s"]["baseline"] == {"runs": [8.0, 10.0, 9.0], "min": 8.0, "median": 9.0}
    assert summary["wall_s"]["with_bal"] == {"runs": [4.0, 6.0, 4.4], "min": 4.0, "median": 4.4}
    # Cores busy: the median of the rounds that recorded it.
    assert summary["cores_busy_median"] == {"baseline": 1.0, "with_bal": pytest.approx(1.85)}
    ratios = summary["ratios"]["with_bal/baseline"]
    assert ratios["min"] == pytest.approx(0.5) and ratios["median"] == pytest.approx(4.4 / 9.0)
    assert ratios["per_round"] == pytest.approx([0.5, 0.6, 4.4 / 9.0])
    # Prague: our streaming import over py-evm's; no ratio between runs the issue does not compare.
    prague = rounds_summary({"baseline": [_run(2.0)], "py_evm": [_run(8.0)]}, ["baseline-1", "py_evm-1"])
    assert list(prague["ratios"]) == ["baseline/py_evm"]
    assert prague["ratios"]["baseline/py_evm"]["median"] == pytest.approx(0.25)


def test_the_rounds_table_and_page() -> None:
    runs = {"baseline": [_run(8.0), _run(9.0)], "with_bal": [_run(4.0, 1.9), _run(5.0, 1.9)]}
    rounds = rounds_summary(runs, ["baseline-1", "with_bal-1", "with_bal-2", "baseline-2"])
    rows = rounds_rows(rounds)
    assert rows[0] == ("baseline (streaming)", "8.000", "8.500", "1.00", "8.000, 9.000")
    assert rows[-1][0] == "with BAL / baseline (streaming)" and rows[-1][1:3] == ("0.500", "0.529")
    report = {"chain": {}, "machine": {}, "runs": {}, "rounds": rounds}
    page = render_html(report)
    assert "2 alternated rounds" in page and "0.529" in page
    assert "alternated rounds" not in render_html({"chain": {}, "machine": {}, "runs": {}})
