"""pytest plumbing for the EF blockchain fixture runner.

    pytest ef-tests --fixtures PATH --pass merkle [--only FRAGMENT ...] [--every N] [--first N]

PATH is a fixture directory, one fixture JSON file, or a release archive
(``.tar.gz``, unpacked once into ``ef-tests/vectors/``). Each test inside each
fixture file is one pytest case, so pytest's closing line counts tests.

Under pytest-xdist (``-n auto``) the fixture files are dealt out one file at a
time (``fixture_scheduling``); each worker closes its own pipeline worker
processes at its session's end and sends its counts to the controller, which
adds them up and prints the one summary.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_pass import SHARED_NODE  # noqa: E402
from execution_passes import close_worker_pools  # noqa: E402
from fixture_files import collect_cases  # noqa: E402
from known_issues import known_issue_for, load_known_issues  # noqa: E402
from outcomes import Outcomes  # noqa: E402
from passes import PASS_GROUPS, PASSES  # noqa: E402

# The unpacked archives (about 2,700 folders) hold no test modules; walking them took two
# of the five CPU seconds collecting the first 40 for_prague files took.
collect_ignore = ["vectors"]

_outcomes = Outcomes()
# xdist workers whose counts reached the controller, and those that never sent any (crashed)
_merged_workers: list[str] = []
_lost_workers: list[str] = []


def _release_fixtures_flag(parser: pytest.Parser) -> None:
    """Free the name ``--fixtures`` for the fixture path.

    pytest's own "list available fixtures" flag is called ``--fixtures`` too;
    it keeps its other name, ``--funcargs``. Renaming our option would break
    the documented ``pytest ef-tests --fixtures PATH`` command line.
    """
    action = parser.optparser._option_string_actions.pop("--fixtures", None)
    if action is not None:
        action.option_strings.remove("--fixtures")
    parser._opt2dest.pop("--fixtures", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    _release_fixtures_flag(parser)
    group = parser.getgroup("ef-tests", "EF blockchain fixtures")
    group.addoption(
        "--fixtures",
        dest="ef_fixtures",
        default=os.environ.get("EF_FIXTURES"),
        help="fixture directory, JSON file or .tar.gz archive (default: $EF_FIXTURES)",
    )
    group.addoption(
        "--pass", dest="ef_pass", default="merkle", choices=sorted(PASSES), help="which pass to run"
    )
    group.addoption(
        "--only",
        action="append",
        default=[],
        help="run only fixture files whose path contains this fragment (repeatable)",
    )
    group.addoption("--every", type=int, default=1, help="run every N-th fixture file (CI subsets)")
    group.addoption(
        "--first",
        type=int,
        default=None,
        help="run only the first N of the selected fixture files (the comparison with the execution specs)",
    )
    group.addoption(
        "--node-start",
        choices=("zygote", "process"),
        default="zygote",
        help="engine pass: fork nodes from a process that imported balrex once, or start each anew",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("node_start", "zygote") == "process":
        SHARED_NODE.zygote = None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fixture_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    source = config.getoption("ef_fixtures")
    if not source:
        raise pytest.UsageError("ef-tests needs --fixtures PATH (or EF_FIXTURES)")
    every = config.getoption("--every")
    if every < 1:
        raise pytest.UsageError("--every must be at least 1")
    first = config.getoption("--first")
    if first is not None and first < 1:
        raise pytest.UsageError("--first must be at least 1")
    pass_name = config.getoption("ef_pass")
    cases = collect_cases(
        Path(source), config.getoption("--only"), every, first, group_of=PASS_GROUPS.get(pass_name)
    )
    if not cases:
        raise pytest.UsageError(f"no fixture tests selected under {source}")
    issues = load_known_issues()
    params = []
    for case in cases:
        issue = known_issue_for(case.short_id, pass_name, issues)
        marks = [pytest.mark.xfail(strict=True, reason=issue.reason)] if issue else []
        params.append(pytest.param(case, id=case.short_id, marks=marks))
    metafunc.parametrize("fixture_case", params)


@pytest.fixture
def ef_pass(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("ef_pass")


@pytest.fixture
def outcomes() -> Outcomes:
    return _outcomes


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    close_worker_pools()
    SHARED_NODE.shut_down()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its counts go to the controller
        workeroutput["ef_outcomes"] = _outcomes.to_wire()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from fixture_scheduling import FixtureFileScheduling  # xdist is imported only when it runs

    return FixtureFileScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller: add a finished xdist worker's counts to the summary's."""
    name = node.gateway.id
    sent = getattr(node, "workeroutput", {}).get("ef_outcomes")
    if sent is None:
        _lost_workers.append(name)
        return
    _outcomes.add(sent)
    _merged_workers.append(name)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if config.getoption("ef_fixtures", None):
        for line in _outcomes.summary_lines(config.getoption("ef_pass")):
            terminalreporter.write_line(line)
        if _merged_workers:
            terminalreporter.write_line(
                f"  counts of {len(_merged_workers)} xdist workers (seconds summed over them)"
            )
        if _lost_workers:
            terminalreporter.write_line(
                f"  INCOMPLETE: xdist workers {', '.join(_lost_workers)} sent no counts", red=True
            )
