"""The runner under pytest-xdist: fixture files dealt out whole, the workers' counts added up exactly."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import execnet
import pytest
from fixture_files import release_archive
from fixture_scheduling import fixture_file_scope
from outcomes import Outcomes

REPO = Path(__file__).resolve().parents[2]


def test_a_fixture_file_is_one_scope() -> None:
    prefix = "ef-tests/test_ef_fixtures.py::test_fixture"
    first = f"{prefix}[blockchain_tests/for_amsterdam/frontier/tx_nonce[fork_Amsterdam-nonce_diff_1]]"
    second = f"{prefix}[blockchain_tests/for_amsterdam/frontier/tx_nonce[fork_Amsterdam-nonce_diff_0]]"
    other = f"{prefix}[blockchain_tests/for_amsterdam/frontier/tx_gas_limit[fork_Amsterdam]]"
    assert fixture_file_scope(first) == "blockchain_tests/for_amsterdam/frontier/tx_nonce"
    assert fixture_file_scope(second) == fixture_file_scope(first)
    assert fixture_file_scope(other) != fixture_file_scope(first)
    assert fixture_file_scope(f"{prefix}[no_variant]") == f"{prefix}[no_variant]"
    assert fixture_file_scope("tests/test_x.py::test_y") == "tests/test_x.py::test_y"


def _outcomes(valid: int, rule: str, warm: list[int]) -> Outcomes:
    outcomes = Outcomes(valid_blocks=valid, seconds=1.5, split_blocks=1, warm=warm)
    outcomes.stages["exec"] += 0.25
    outcomes.reject(rule, "BlockException.X", "")
    outcomes.left_to_execution["BlockException.Y"] += 1
    return outcomes


def test_the_counts_of_two_workers_add_up_after_crossing_execnet() -> None:
    controller = Outcomes()
    for worker in (_outcomes(3, "a", [5, 1]), _outcomes(4, "b", [2, 2])):
        controller.add(execnet.loads(execnet.dumps(worker.to_wire())))
    assert controller.valid_blocks == 7
    assert controller.seconds == 3.0
    assert controller.split_blocks == 2
    assert controller.warm == [7, 3]
    assert controller.stages == Counter({"exec": 0.5})
    assert controller.rejected == Counter(
        {"a (fixture expects BlockException.X)": 1, "b (fixture expects BlockException.X)": 1}
    )
    assert controller.left_to_execution == Counter({"BlockException.Y": 2})


def _summary(pass_name: str, *xdist: str) -> tuple[str, list[str]]:
    """Run the runner on a few invalid-BAL fixture files; its closing line and the counts of its summary."""
    archive = release_archive("for_amsterdam.tar.gz")
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", "-q",
        *xdist, "ef-tests", "--fixtures", str(archive), "--pass", pass_name,
        "--only", "block_access_lists_invalid/bal_invalid_", "--every", "4",
    ]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    closing = re.sub(r" in [\d.]+s.*", "", lines[-1])
    counts = [
        re.sub(r"in [\d.]+ s \(\d+ blocks/s\)", "", line)
        for line in lines
        if line.startswith(f"{pass_name} pass:") or line.startswith(("  rejected by", "  left to execution"))
    ]
    assert counts, run.stdout[-3000:]
    return closing, counts


@pytest.mark.integration
@pytest.mark.parametrize("pass_name", ["streaming", "bal"])
def test_xdist_gives_the_same_totals(pass_name: str) -> None:
    """Two workers (on the bal pass each with its own pipeline worker processes) count what one does."""
    assert _summary(pass_name, "-n", "2") == _summary(pass_name)
