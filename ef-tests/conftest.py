"""pytest plumbing for the EF blockchain fixture runner.

    pytest ef-tests --fixtures PATH --pass merkle [--only FRAGMENT ...] [--every N]

PATH is a fixture directory, one fixture JSON file, or a release archive
(``.tar.gz``, unpacked once into ``ef-tests/vectors/``). Each test inside each
fixture file is one pytest case, so pytest's closing line counts tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from execution_passes import close_worker_pools  # noqa: E402
from fixture_files import collect_cases  # noqa: E402
from known_issues import known_issue_for, load_known_issues  # noqa: E402
from outcomes import Outcomes  # noqa: E402
from passes import PASSES  # noqa: E402

_outcomes = Outcomes()


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
    cases = collect_cases(Path(source), config.getoption("--only"), every)
    if not cases:
        raise pytest.UsageError(f"no fixture tests selected under {source}")
    pass_name = config.getoption("ef_pass")
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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if config.getoption("ef_fixtures", None):
        for line in _outcomes.summary_lines(config.getoption("ef_pass")):
            terminalreporter.write_line(line)
