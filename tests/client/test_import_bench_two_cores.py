"""``make bench-cores``: the slowdown arithmetic, its arguments, and one real run on a small chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.tools.bench_chain.generate import ChainSettings, generate_chain
from client.tools.import_bench.two_cores import (
    WARMUP_ITERATIONS,
    format_summary,
    main,
    parse_args,
    run_median,
    summarize,
)


def test_a_run_leaves_out_its_warm_up_executions() -> None:
    figures = [9.0] * WARMUP_ITERATIONS + [1.0, 2.0, 3.0]
    assert run_median(figures) == 2.0


def test_slowdown_per_round_and_the_floor() -> None:
    rounds = [
        {"solo": 0.40, "pair": [0.44, 0.42]},
        {"solo": 0.50, "pair": [0.50, 0.50]},
        {"solo": 0.30, "pair": [0.36, 0.30]},
    ]
    summary = summarize(rounds)
    assert summary["solo_ms_per_tx"] == {"min": 0.30, "median": 0.40}
    assert summary["pair_ms_per_tx"]["min"] == 0.30 and summary["pair_ms_per_tx"]["median"] == pytest.approx(
        0.43
    )
    # Each round's pair mean over its own solo run (made back to back), not the medians' ratio.
    assert summary["slowdown"]["per_round"] == pytest.approx([1.075, 1.0, 1.1])
    assert summary["slowdown"]["min"] == pytest.approx(1.0)
    assert summary["slowdown"]["median"] == pytest.approx(1.075)
    assert summary["bal_over_streaming_floor"] == pytest.approx(0.5375)
    text = format_summary(summary, rounds)
    assert "1.075, 1.000, 1.100" in text and "0.440/0.420" in text


@pytest.mark.parametrize("argv", [["--rounds", "0"], ["--iterations", str(WARMUP_ITERATIONS)]])
def test_bad_arguments_exit_with_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2 and "error" in capsys.readouterr().err


@pytest.mark.slow
def test_one_round_on_a_small_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain = tmp_path / "amsterdam"
    generate_chain(ChainSettings(fork="amsterdam", blocks=3, txs_per_block=20, seed=5, accounts=100), chain)
    json_path = tmp_path / "cores.json"
    iterations = str(WARMUP_ITERATIONS + 2)
    assert (
        main(["--chain", str(chain), "--rounds", "2", "--iterations", iterations, "--json", str(json_path)])
        == 0
    )
    report = json.loads(json_path.read_text())
    assert report["block"] == 3 and report["order"] == ["solo-1", "pair-1", "pair-2", "solo-2"]
    for made in report["rounds"]:
        assert made["solo"] > 0 and len(made["pair"]) == 2 and all(figure > 0 for figure in made["pair"])
    assert report["bal_over_streaming_floor"] == pytest.approx(report["slowdown"]["median"] / 2)
    assert "floor of import-bench" in capsys.readouterr().out


@pytest.mark.slow
def test_a_chain_without_bals_gets_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain = tmp_path / "prague"
    generate_chain(ChainSettings(fork="prague", blocks=2, txs_per_block=5, seed=5, accounts=100), chain)
    assert main(["--chain", str(chain), "--rounds", "1", "--iterations", str(WARMUP_ITERATIONS + 1)]) == 1
    assert "needs an Amsterdam bench chain" in capsys.readouterr().err
