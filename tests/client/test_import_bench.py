"""``balrex import-bench`` end to end, through the installed command (it starts worker processes).

Small generated chains: an Amsterdam one (baseline vs BAL path) and a Prague one
(baseline vs py-evm's own import). The JSON must hold every metric for every
block in the documented shape, each block's stages must add up to its wall
time, both runs must import the same blocks, and bad requests get clear errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from client.tools.bench_chain.generate import ChainSettings, generate_chain
from pipeline.cores import available_cores, plan_cores
from pipeline.interpreter import SWITCH_INTERVAL_S, YOUNG_COLLECTION_THRESHOLD

pytestmark = pytest.mark.slow  # generates and imports chains

BALREX = Path(sys.executable).parent / "balrex"
# The fields the issue fixes for the JSON (stage averages in the summary, stages per block).
STAGE_KEYS = {
    "exec_ms",
    "warmer_ms",
    "merkle_concurrent_ms",
    "merkle_drain_ms",
    "merkle_overlap_pct",
    "store_ms",
}
SUMMARY_KEYS = STAGE_KEYS | {"blocks", "gas", "wall_s", "mgas_per_s", "ms_per_block", "warm_hit_pct"}
# Every run's CPU time per process (``client.tools.import_bench.cpu``).
CPU_KEYS = {"cpu_s", "cpu_node_s", "cpu_workers_s", "cores_busy"}
BLOCK_KEYS = STAGE_KEYS | {"number", "gas", "txs", "wall_ms"}


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("import-bench")
    out = {}
    for fork in ("amsterdam", "prague"):
        out[fork] = root / fork
        generate_chain(ChainSettings(fork=fork, blocks=3, txs_per_block=30, seed=3, accounts=200), out[fork])
    return out


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BALREX), "import-bench", *args], capture_output=True, text=True, timeout=600)


def _check_stage_sum(block: dict[str, Any]) -> None:
    """The stages and the itemized remainder add up to the block's wall time."""
    parts = ("prepare_ms", "exec_ms", "merkle_drain_ms", "store_ms", "other_ms")
    assert sum(block[k] for k in parts) == pytest.approx(block["wall_ms"], abs=0.01), block
    assert block["other_ms"] >= -0.01, block


def test_compare_on_an_amsterdam_chain(chains: dict[str, Path], tmp_path: Path) -> None:
    json_path, report_path = tmp_path / "bench.json", tmp_path / "bench.html"
    done = _bench(
        str(chains["amsterdam"]), "--compare", "--json", str(json_path), "--report", str(report_path)
    )
    assert done.returncode == 0, done.stderr
    for label in (
        "wall time (s)",
        "merkle overlap %",
        "warm-cache hit %",
        "cores busy",
        "baseline (streaming)",
        "with BAL",
    ):
        assert label in done.stdout
    report = json.loads(json_path.read_text())
    assert report["chain"]["fork"] == "amsterdam" and report["chain"]["blocks"] == 3
    # The runs use the node's switch interval (pipeline.interpreter), not Python's 5 ms default.
    assert report["machine"]["switch_interval_s"] == pytest.approx(SWITCH_INTERVAL_S)
    assert report["machine"]["gc_thresholds"][0] == YOUNG_COLLECTION_THRESHOLD
    assert set(report["runs"]) == {"baseline", "with_bal"}
    numbers = None
    for name, run in report["runs"].items():
        assert SUMMARY_KEYS | CPU_KEYS <= set(run["summary"]), name
        assert run["summary"]["blocks"] == 3
        assert len(run["blocks"]) == 3
        for block in run["blocks"]:
            assert BLOCK_KEYS <= set(block)
            _check_stage_sum(block)
        assert sum(b["gas"] for b in run["blocks"]) == run["summary"]["gas"]
        if numbers is None:
            numbers = [b["number"] for b in run["blocks"]]
        assert [b["number"] for b in run["blocks"]] == numbers == [1, 2, 3]
    baseline, with_bal = report["runs"]["baseline"], report["runs"]["with_bal"]
    assert baseline["summary"]["warmer_ms"] is None and baseline["summary"]["warm_hit_pct"] is None
    assert all(b["merkle_overlap_pct"] == 0.0 for b in baseline["blocks"])
    assert with_bal["summary"]["warmer_ms"] is not None
    assert 0 < with_bal["summary"]["warm_hit_pct"] <= 100
    # CPU per process: the streaming path is the node's alone; the BAL path's workers are each counted.
    assert baseline["summary"]["cpu_s"] == {"node": baseline["summary"]["cpu_node_s"]}
    assert baseline["summary"]["cpu_workers_s"] == 0
    bal_cpu = with_bal["summary"]["cpu_s"]
    assert {"node", "balrex-merkle-0", "balrex-later-part"} <= set(bal_cpu)
    # (A worker's figure counts clock ticks: one that ran a few milliseconds may show 0.)
    assert all(seconds >= 0 for seconds in bal_cpu.values()) and bal_cpu["node"] > 0, bal_cpu
    workers_s = with_bal["summary"]["cpu_workers_s"]
    assert workers_s > 0 and workers_s == pytest.approx(sum(bal_cpu.values()) - bal_cpu["node"], abs=0.01)
    for run in (baseline, with_bal):
        summary = run["summary"]
        busy = (summary["cpu_node_s"] + summary["cpu_workers_s"]) / summary["wall_s"]
        assert summary["cores_busy"] == pytest.approx(busy, abs=0.01)
    page = report_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "with BAL" in page
    # The BAL run gives the node's process and the later-part worker a core each (pipeline.cores).
    assert baseline["summary"]["pinned_cores"] is None
    plan = plan_cores(available_cores())
    assert plan is not None  # the suite runs on at least two cores
    assert with_bal["summary"]["pinned_cores"] == {
        "node": sorted(plan.node),
        "later_part": sorted(plan.later_part),
        "merkle": sorted(plan.merkle),
    }


def test_rounds_alternate_the_runs_and_report_their_spread(chains: dict[str, Path], tmp_path: Path) -> None:
    json_path = tmp_path / "rounds.json"
    done = _bench(str(chains["amsterdam"]), "--compare", "--rounds", "2", "--json", str(json_path))
    assert done.returncode == 0, done.stderr
    assert "2 alternated rounds" in done.stdout
    report = json.loads(json_path.read_text())
    rounds = report["rounds"]
    assert rounds["order"] == ["baseline-1", "with_bal-1", "with_bal-2", "baseline-2"]
    for name in ("baseline", "with_bal"):
        walls = rounds["wall_s"][name]
        assert len(walls["runs"]) == 2 and walls["min"] == min(walls["runs"])
        # The run the tables show is the faster of the two (the lower median of an even count).
        shown = report["runs"][name]
        assert shown["summary"]["wall_s"] == walls["min"] and shown["round"] == 1 + walls["runs"].index(
            walls["min"]
        )
        assert shown["summary"]["blocks"] == 3
    ratio = rounds["ratios"]["with_bal/baseline"]
    assert ratio["min"] == pytest.approx(
        rounds["wall_s"]["with_bal"]["min"] / rounds["wall_s"]["baseline"]["min"]
    )
    assert len(ratio["per_round"]) == 2
    refused = _bench(str(chains["amsterdam"]), "--rounds", "0")
    assert refused.returncode == 2 and "--rounds" in refused.stderr


def test_no_pin_cores_leaves_the_bal_run_where_the_scheduler_puts_it(
    chains: dict[str, Path], tmp_path: Path
) -> None:
    json_path = tmp_path / "bench.json"
    done = _bench(str(chains["amsterdam"]), "--with-bal", "--no-pin-cores", "--json", str(json_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads(json_path.read_text())["runs"]["with_bal"]["summary"]
    assert summary["pinned_cores"] is None and summary["blocks"] == 3


def test_prague_compare_adds_py_evm_and_refuses_with_bal(chains: dict[str, Path], tmp_path: Path) -> None:
    json_path = tmp_path / "prague.json"
    done = _bench(str(chains["prague"]), "--compare", "--json", str(json_path))
    assert done.returncode == 0, done.stderr
    runs = json.loads(json_path.read_text())["runs"]
    assert set(runs) == {"baseline", "py_evm"}
    assert runs["py_evm"]["summary"]["gas"] == runs["baseline"]["summary"]["gas"] > 0
    assert runs["py_evm"]["summary"]["exec_ms"] is None
    # py-evm's import is one process: its CPU time is all the node's.
    assert runs["py_evm"]["summary"]["cpu_s"] == {"node": runs["py_evm"]["summary"]["cpu_node_s"]}
    refused = _bench(str(chains["prague"]), "--with-bal")
    assert refused.returncode == 1 and "no BALs" in refused.stderr


def test_bad_arguments_get_clear_errors(chains: dict[str, Path], tmp_path: Path) -> None:
    missing = _bench(str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "error:" in missing.stderr and "nowhere" in missing.stderr
    wrong_report = _bench(str(chains["amsterdam"]), "--report", str(tmp_path / "out.txt"))
    assert wrong_report.returncode == 1 and ".html" in wrong_report.stderr
