"""ef-tests/compare_specs.py: which files both sides run, reading balrex's counts, and the summary.

Nothing here is timed: the walls below are made up so the arithmetic can be checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compare_specs import (
    BALREX,
    BALREX_XDIST,
    SPECS,
    ComparisonError,
    SideRun,
    balrex_command,
    pytest_counts,
    specs_command,
    summarize,
    summary_lines,
)
from fixture_files import collect_cases, select_files


def write_fixture_tree(root: Path) -> None:
    """Seven fixture files in two folders, written out of order, two tests each."""
    for i in (6, 2, 0, 5, 3, 1, 4):
        folder = root / ("b" if i % 2 else "a")
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.json").write_text(json.dumps({f"t[{i}x]": {}, f"t[{i}y]": {}}))


def test_first_takes_the_leading_files_of_the_sorted_selection(tmp_path: Path) -> None:
    write_fixture_tree(tmp_path)
    root, files = select_files(tmp_path, first=3)
    assert root == tmp_path
    assert [str(f.relative_to(root)) for f in files] == ["a/f0.json", "a/f2.json", "a/f4.json"]
    # first applies after only and every, as on the runner's command line
    _, thinned = select_files(tmp_path, only=["b/"], every=2, first=1)
    assert [f.name for f in thinned] == ["f1.json"]
    # the runner's cases are the tests of exactly those files, in file order
    cases = collect_cases(tmp_path, first=3)
    assert [c.short_id for c in cases] == [
        "a/f0[0x]", "a/f0[0y]", "a/f2[2x]", "a/f2[2y]", "a/f4[4x]", "a/f4[4y]",
    ]  # fmt: skip
    assert len(collect_cases(tmp_path, first=100)) == 14


def test_both_sides_are_given_the_same_selection(tmp_path: Path) -> None:
    ours = balrex_command(tmp_path, 40, xdist=False)
    assert ours[ours.index("--fixtures") + 1] == str(tmp_path)
    assert ours[ours.index("--first") + 1] == "40"
    assert ours[ours.index("--pass") + 1] == "streaming"
    assert "-n" not in ours, "the like-for-like side runs in one process"
    on_every_core = balrex_command(tmp_path, 40, xdist=True)
    assert on_every_core[on_every_core.index("-n") + 1] == "auto"
    assert on_every_core[on_every_core.index("ef-tests") :] == ours[ours.index("ef-tests") :]
    theirs = specs_command(Path("python"), tmp_path, 40, tmp_path / "out.json")
    assert theirs[theirs.index("--fixtures") + 1] == str(tmp_path)
    assert theirs[theirs.index("--first") + 1] == "40"


def test_pytest_closing_line_counts() -> None:
    assert pytest_counts("....\n616 passed in 34.50s\n") == (616, 0)
    output = "F.x\nsummary line 3 passed in the table\n2 failed, 613 passed, 1 xfailed in 95.31s (0:01:35)\n"
    assert pytest_counts(output) == (613, 2)
    assert pytest_counts("1 failed, 5 passed, 1 xpassed, 2 errors in 3.0s") == (5, 4)
    with pytest.raises(ComparisonError):
        pytest_counts("Traceback (most recent call last):\nImportError: no module\n")


def _run(side: str, wall: float, passed: int = 10, failed: int = 0) -> SideRun:
    """A run whose CPU seconds are 90% of its wall."""
    return SideRun(side, wall, 0.9 * wall, passed, failed, load_average=1.0)


def test_summary_min_median_and_ratios() -> None:
    runs = [
        _run(BALREX, 30.0), _run(SPECS, 100.0),
        _run(BALREX, 36.0), _run(SPECS, 120.0),
        _run(BALREX, 33.0), _run(SPECS, 90.0),
    ]  # fmt: skip
    summary = summarize(runs, expected_tests=10)
    ours, theirs = summary["sides"][BALREX], summary["sides"][SPECS]
    assert (ours["min_seconds"], ours["median_seconds"]) == (30.0, 33.0)
    assert (theirs["min_seconds"], theirs["median_seconds"]) == (90.0, 100.0)
    assert ours["wall_seconds"] == [30.0, 36.0, 33.0]
    assert ours["cpu_min_seconds"] == pytest.approx(27.0)
    assert summary["ratio_to_specs"][BALREX] == pytest.approx(
        {"min": 30 / 90, "median": 0.33, "cpu_median": 0.33}
    )
    assert summary["meets_target"] and summary["like_for_like"]
    assert any("met" in line for line in summary_lines(summary))


def test_summary_verdicts_fail_when_slow_or_not_the_same_work() -> None:
    slow = summarize([_run(BALREX, 40.0), _run(SPECS, 100.0)], expected_tests=10)
    assert not slow["meets_target"]
    assert any("NOT met" in line for line in summary_lines(slow))
    failed = summarize([_run(BALREX, 20.0), _run(SPECS, 100.0, passed=9, failed=1)], expected_tests=10)
    assert not failed["like_for_like"]
    fewer = summarize([_run(BALREX, 20.0, passed=8), _run(SPECS, 100.0)], expected_tests=10)
    assert not fewer["like_for_like"]
    # a run whose count differs from the others' spoils the side's count
    mixed = summarize([_run(BALREX, 20.0), _run(SPECS, 100.0), _run(BALREX, 21.0, passed=9, failed=1),
                       _run(SPECS, 99.0)], expected_tests=10)  # fmt: skip
    assert mixed["sides"][BALREX]["passed"] == 9 and mixed["sides"][BALREX]["failed"] == 1
    assert not mixed["like_for_like"]


def test_the_xdist_side_is_reported_beside_the_one_process_side() -> None:
    runs = [_run(BALREX, 30.0), _run(SPECS, 100.0), _run(BALREX_XDIST, 20.0)]
    summary = summarize(runs, expected_tests=10)
    assert list(summary["sides"]) == [BALREX, SPECS, BALREX_XDIST]
    assert summary["ratio_to_specs"][BALREX_XDIST]["median"] == pytest.approx(0.2)
    assert summary["meets_target"], "the verdict is the one-process side's (0.30)"
