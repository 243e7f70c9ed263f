"""``make bench-against``: arguments, run order, the min/median/ratio arithmetic, git errors.

The part that builds a second virtualenv and imports chains is exercised by running
``make bench-against`` itself (minutes); these tests cover what can fail quietly in between.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from client.tools.import_bench.against import (
    REV,
    THIS,
    AgainstError,
    bench_cores_busy,
    bench_walls,
    checkout_environment,
    format_summary,
    main,
    parse_args,
    resolve_revision,
    same_chain_files,
    summarize,
)
from client.tools.import_bench.rounds import alternation


def test_arguments_defaults_and_overrides() -> None:
    options = parse_args(["b3342ac"])
    assert (options.revision, options.runs, options.keep, options.json_path) == ("b3342ac", 3, False, None)
    options = parse_args(["v1", "--runs", "5", "--keep", "--json", "x.json", "--chain", "c", "--out", "o"])
    assert (options.runs, options.keep, options.json_path, options.chain, options.out) == (
        5,
        True,
        Path("x.json"),
        Path("c"),
        Path("o"),
    )


@pytest.mark.parametrize("argv", [["b3342ac", "--runs", "0"], ["  "], [], ["abc", "--runs", "two"]])
def test_bad_arguments_exit_with_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert "error" in capsys.readouterr().err


def test_runs_alternate_this_then_rev() -> None:
    order = alternation((THIS, REV), 4)
    assert [side for side, _ in order] == [THIS, REV, REV, THIS] * 2  # each side first in every other pair
    assert [number for _, number in order] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert alternation((THIS, REV), 1) == [(THIS, 1), (REV, 1)]
    assert alternation((THIS, REV), 3)[4:] == [(THIS, 3), (REV, 3)]


def test_min_median_and_ratios() -> None:
    walls = {
        THIS: {"bal": [7.0, 6.0, 9.0], "streaming": [10.0, 9.0, 12.0]},
        REV: {"bal": [8.0, 8.0, 7.5, 20.0], "streaming": [9.5, 10.0, 11.0, 10.5]},
    }
    summary = summarize(walls)
    this_bal = summary["wall_s"][THIS]["bal"]
    assert (this_bal["min"], this_bal["median"], this_bal["runs"]) == (6.0, 7.0, [7.0, 6.0, 9.0])
    # An even count's median is the mean of the middle two.
    assert summary["wall_s"][REV]["bal"]["median"] == pytest.approx((8.0 + 8.0) / 2)
    assert summary["wall_s"][REV]["streaming"]["median"] == pytest.approx((10.0 + 10.5) / 2)
    assert summary["bal_over_streaming"][THIS] == pytest.approx({"min": 6.0 / 9.0, "median": 7.0 / 10.0})
    assert summary["bal_over_streaming"][REV] == pytest.approx({"min": 7.5 / 9.5, "median": 8.0 / 10.25})
    assert summary["this_over_rev"]["bal"] == pytest.approx({"min": 6.0 / 7.5, "median": 7.0 / 8.0})
    assert summary["this_over_rev"]["streaming"] == pytest.approx({"min": 9.0 / 9.5, "median": 10.0 / 10.25})
    printed = format_summary("b3342ac", summary)
    assert "this / b3342ac, bal path: min 0.800  median 0.875" in printed
    assert "BAL / streaming, this checkout: min 0.667  median 0.700" in printed


def test_cores_busy_is_the_median_of_the_runs_that_recorded_it() -> None:
    walls = {side: {"bal": [7.0, 8.0], "streaming": [10.0, 11.0]} for side in (THIS, REV)}
    summary = summarize(walls, {THIS: [1.7, None, 1.9, 1.8], REV: [None, None]})
    assert summary["bal_cores_busy"] == {THIS: pytest.approx(1.8), REV: None}
    # An older revision's import-bench records no cores_busy: its side shows none, not a guess.
    assert "cores busy on the BAL path (median): this checkout 1.80, c1dbfec —" in format_summary(
        "c1dbfec", summary
    )
    assert summarize(walls)["bal_cores_busy"] == {THIS: None, REV: None}


def test_bench_cores_busy_reads_the_bal_run_only() -> None:
    report = {
        "runs": {
            "with_bal": {"summary": {"wall_s": 7.5, "cores_busy": 1.77}},
            "baseline": {"summary": {"wall_s": 9.5, "cores_busy": 1.0}},
        }
    }
    assert bench_cores_busy(report) == 1.77
    del report["runs"]["with_bal"]["summary"]["cores_busy"]
    assert bench_cores_busy(report) is None


def test_a_side_without_runs_cannot_be_summarized() -> None:
    with pytest.raises(ValueError, match="no wall times"):
        summarize({THIS: {"bal": [], "streaming": [1.0]}, REV: {"bal": [1.0], "streaming": [1.0]}})


def test_bench_walls_reads_both_paths_and_names_a_missing_one() -> None:
    report = {"runs": {"with_bal": {"summary": {"wall_s": 7.5}}, "baseline": {"summary": {"wall_s": 9.5}}}}
    assert bench_walls(report) == {"bal": 7.5, "streaming": 9.5}
    del report["runs"]["with_bal"]
    with pytest.raises(AgainstError, match="wall_s"):
        bench_walls(report)


def git_repo(path: Path) -> str:
    """A one-commit repository; returns the commit's hash."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    (path / "file").write_text("x")
    git("add", "file")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return git("rev-parse", "HEAD")


def test_revisions_resolve_to_commits_and_unknown_ones_are_named(tmp_path: Path) -> None:
    commit = git_repo(tmp_path)
    assert resolve_revision(tmp_path, "HEAD") == commit
    assert resolve_revision(tmp_path, commit[:7]) == commit
    with pytest.raises(AgainstError, match="unknown revision 'nosuchrev'"):
        resolve_revision(tmp_path, "nosuchrev")


def test_main_reports_an_unknown_revision_before_touching_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["nosuchrev", "--out", str(tmp_path / "out")]) == 1
    assert "unknown revision 'nosuchrev'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_chains_are_the_same_when_their_recorded_hashes_agree(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for chain, blocks_hash in ((first, "11"), (second, "11")):
        chain.mkdir()
        (chain / "chain.json").write_text(f'{{"files": {{"blocks.rlp": "{blocks_hash}"}}}}')
    assert same_chain_files(first, second)
    (second / "chain.json").write_text('{"files": {"blocks.rlp": "22"}}')
    assert not same_chain_files(first, second)


def test_another_checkout_picks_its_own_keccak_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # This checkout exports its backend for its own workers; b3342ac has no pysha3 installed.
    monkeypatch.setenv("ETH_HASH_BACKEND", "pysha3")
    monkeypatch.setenv("BALREX_PROBE", "kept")
    environment = checkout_environment()
    assert "ETH_HASH_BACKEND" not in environment
    assert environment["BALREX_PROBE"] == "kept"
