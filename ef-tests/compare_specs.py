"""balrex's EF runner against the Python execution specs, on the same fixture files (issue #17).

    make ef-compare-specs [RUNS=3] [FIRST=40] [COMPARE_XDIST=--xdist]
    .venv/bin/python ef-tests/compare_specs.py --specs-python ef-tests/.specs-venv/bin/python \\
        [--fixtures DIR] [--first 40] [--runs 3] [--xdist] [--json FILE] [--profile FILE]

The files: the first ``--first`` fixture files of ``for_prague`` in the order
``fixture_files.select_files`` gives (sorted paths), the same list on both
sides. Each run is one process per side, timed from its start to its exit
(interpreter start, imports and fixture parsing included on both sides):

* balrex: the project's runner, ``pytest ef-tests --pass streaming --first N``,
  in one process (no xdist), so the comparison is like for like; ``--xdist``
  adds a third side, the same run with ``-n auto``, reported beside it;
* specs: ``specs_blockchain_tests.py`` in the specs' own virtualenv (the
  Makefile builds it from ``specs-requirements.txt``), the same checks through
  the specs' ``state_transition``.

The sides alternate ``--runs`` times, each going first in every other round
(balrex, specs; specs, balrex; ...: a fixed order would give one side any
effect of running first, and a drift over the session weighs on both). The summary
(printed, and written as JSON, by default to ``bench-out/ef-compare-specs.json``)
holds each side's wall times, min and median, the tests passed and failed, the
load average at each run's start, and balrex / specs of the mins and of the
medians, against the issue's target (0.33, on the wall medians). On a shared
machine the walls move with the other jobs' load, so each run's CPU seconds
(user + system of the side's whole process tree, xdist workers included) are
reported beside them, with their own ratio. Any failed test on either side, or
sides that ran different numbers of tests, make the exit status 1: the times
would not be of the same work.

``--profile FILE`` instead runs balrex's side once under cProfile and prints
the functions with the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

EF_TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(EF_TESTS))

from fixture_files import collect_cases, release_archive, select_files, unpack_archive  # noqa: E402

REPOSITORY = EF_TESTS.parent
TARGET_RATIO = 0.33
BALREX, BALREX_XDIST, SPECS = "balrex", "balrex -n auto", "specs"
# pytest's closing line, e.g. "2 failed, 613 passed, 1 xfailed in 95.31s (0:01:35)"
_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|xfailed|xpassed|skipped)\b")


class ComparisonError(Exception):
    """A side's run gave no result the comparison can read."""


@dataclass(frozen=True)
class SideRun:
    """One timed run of one side."""

    side: str
    wall_seconds: float
    cpu_seconds: float
    passed: int
    failed: int
    load_average: float


def pytest_counts(output: str) -> tuple[int, int]:
    """Tests passed and not passed (failed, errors, unexpected passes) from pytest's closing line.

    Known issues (``xfailed``) count as neither: the runner expects them to fail.
    """
    lines = [line for line in output.splitlines() if _PYTEST_COUNT.search(line) and " in " in line]
    if not lines:
        raise ComparisonError("no pytest closing line in balrex's output")
    counts = {kind: int(number) for number, kind in _PYTEST_COUNT.findall(lines[-1])}
    failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)
    return counts.get("passed", 0), failed + counts.get("xpassed", 0)


def balrex_command(fixtures: Path, first: int, xdist: bool) -> list[str]:
    """The project's runner on the selected files, streaming pass; ``-n auto`` when ``xdist``."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", "-q"]
    if xdist:
        command += ["-n", "auto"]
    return command + ["ef-tests", "--fixtures", str(fixtures), "--pass", "streaming", "--first", str(first)]


def specs_command(specs_python: Path, fixtures: Path, first: int, result_file: Path) -> list[str]:
    return [
        str(specs_python), str(EF_TESTS / "specs_blockchain_tests.py"),
        "--fixtures", str(fixtures), "--first", str(first), "--json", str(result_file),
    ]  # fmt: skip


def _children_cpu_seconds() -> float:
    """User + system seconds of every finished child process (and theirs, once waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_side(side: str, fixtures: Path, first: int, specs_python: Path) -> SideRun:
    """Run one side once, in its own process, and time it from start to exit."""
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ef-compare-") as scratch:
        result_file = Path(scratch) / "specs.json"
        if side == SPECS:
            command = specs_command(specs_python, fixtures, first, result_file)
        else:
            command = balrex_command(fixtures, first, xdist=side == BALREX_XDIST)
        cpu_before = _children_cpu_seconds()
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True)
        wall = time.perf_counter() - started
        cpu = _children_cpu_seconds() - cpu_before
        if side == SPECS:
            if not result_file.exists():
                raise ComparisonError(f"the specs side wrote no result:\n{completed.stderr[-3000:]}")
            result = json.loads(result_file.read_text())
            passed, failed = result["passed"], result["failed"]
        else:
            passed, failed = pytest_counts(completed.stdout)
    if failed:
        print(completed.stdout[-3000:], file=sys.stderr)
    return SideRun(side, wall, cpu, passed, failed, load_average)


def side_summary(runs: Sequence[SideRun]) -> dict[str, Any]:
    """Min and median wall and CPU time of one side's runs, and its counts (its worst run's)."""
    walls = [run.wall_seconds for run in runs]
    cpus = [run.cpu_seconds for run in runs]
    return {
        "runs": len(runs),
        "wall_seconds": walls,
        "min_seconds": min(walls),
        "median_seconds": statistics.median(walls),
        "cpu_seconds": cpus,
        "cpu_min_seconds": min(cpus),
        "cpu_median_seconds": statistics.median(cpus),
        "passed": min(run.passed for run in runs),
        "failed": max(run.failed for run in runs),
        "load_averages": [run.load_average for run in runs],
    }


def summarize(runs: Sequence[SideRun], expected_tests: int, target: float = TARGET_RATIO) -> dict[str, Any]:
    """Each side's summary, balrex / specs of the mins and of the medians, and the verdicts.

    ``like_for_like`` holds when every run of every side passed all ``expected_tests``.
    """
    side_names = dict.fromkeys(run.side for run in runs)  # in the order they first ran
    sides = {side: side_summary([run for run in runs if run.side == side]) for side in side_names}
    specs = sides[SPECS]
    ratios = {
        side: {
            "min": summary["min_seconds"] / specs["min_seconds"],
            "median": summary["median_seconds"] / specs["median_seconds"],
            "cpu_median": summary["cpu_median_seconds"] / specs["cpu_median_seconds"],
        }
        for side, summary in sides.items()
        if side != SPECS
    }
    like_for_like = all(
        summary["passed"] == expected_tests and summary["failed"] == 0 for summary in sides.values()
    )
    return {
        "expected_tests": expected_tests,
        "sides": sides,
        "ratio_to_specs": ratios,
        "target": target,
        "meets_target": ratios[BALREX]["median"] <= target,
        "like_for_like": like_for_like,
        "runs": [asdict(run) for run in runs],
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a short table."""
    lines = [f"{summary['expected_tests']} tests; wall seconds (min / median of each side's runs):"]
    for side, data in summary["sides"].items():
        walls = ", ".join(f"{w:.1f}" for w in data["wall_seconds"])
        lines.append(
            f"  {side:15} min {data['min_seconds']:8.2f}  median {data['median_seconds']:8.2f}  "
            f"passed {data['passed']}, failed {data['failed']}  [{walls}]"
        )
        lines.append(
            f"  {'':15} cpu {data['cpu_min_seconds']:8.2f}  median {data['cpu_median_seconds']:8.2f}"
        )
    for side, ratio in summary["ratio_to_specs"].items():
        lines.append(
            f"  {side} / specs: min {ratio['min']:.3f}, median {ratio['median']:.3f} "
            f"(CPU seconds, median: {ratio['cpu_median']:.3f})"
        )
    verdict = "met" if summary["meets_target"] else "NOT met"
    lines.append(f"  target balrex / specs <= {summary['target']} (medians): {verdict}")
    if not summary["like_for_like"]:
        lines.append("  NOT like for like: a side failed tests or ran a different number of them")
    return lines


def profile_balrex(fixtures: Path, first: int, output: Path, top: int = 30) -> None:
    """Run balrex's side once in this process under cProfile; print the costliest functions."""
    import pytest  # balrex's virtualenv: the runner's own dependencies

    arguments = balrex_command(fixtures, first, xdist=False)[3:]  # after "python -m pytest"
    os.chdir(REPOSITORY)
    profiler = cProfile.Profile()
    profiler.runcall(pytest.main, arguments)
    profiler.dump_stats(output)
    stats = pstats.Stats(str(output))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--specs-python", type=Path, default=EF_TESTS / ".specs-venv" / "bin" / "python")
    parser.add_argument("--fixtures", type=Path, help="default: the unpacked for_prague archive")
    parser.add_argument("--first", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xdist", action="store_true", help="also time balrex with -n auto")
    parser.add_argument("--json", type=Path, default=REPOSITORY / "bench-out" / "ef-compare-specs.json")
    parser.add_argument("--profile", type=Path, default=None, help="profile balrex's side once instead")
    args = parser.parse_args()

    fixtures = args.fixtures or unpack_archive(release_archive("for_prague.tar.gz"))
    if args.profile is not None:
        profile_balrex(fixtures, args.first, args.profile)
        return 0
    if not args.specs_python.exists():
        raise SystemExit(f"no specs virtualenv at {args.specs_python}: run make ef-compare-specs")
    root, files = select_files(fixtures, first=args.first)
    expected_tests = len(collect_cases(fixtures, first=args.first))
    print(f"{len(files)} files ({files[0].relative_to(root)} ... {files[-1].relative_to(root)}), "
          f"{expected_tests} tests; {args.runs} alternated runs")  # fmt: skip

    sides = [BALREX, SPECS] + ([BALREX_XDIST] if args.xdist else [])
    runs: list[SideRun] = []
    for round_number in range(1, args.runs + 1):
        for side in sides if round_number % 2 else sides[::-1]:
            run = run_side(side, fixtures, args.first, args.specs_python)
            runs.append(run)
            print(f"  run {round_number} {side:15} {run.wall_seconds:8.2f} s (cpu {run.cpu_seconds:7.2f} s)  "
                  f"passed {run.passed}, failed {run.failed}  (load {run.load_average:.2f})",
                  flush=True)  # fmt: skip

    summary = summarize(runs, expected_tests)
    summary["files"] = [str(path.relative_to(root)) for path in files]
    for line in summary_lines(summary):
        print(line)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0 if summary["like_for_like"] else 1


if __name__ == "__main__":
    sys.exit(main())
