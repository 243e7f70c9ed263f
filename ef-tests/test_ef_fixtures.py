"""One pytest case per EF blockchain test; the pass chosen with --pass judges it."""

from __future__ import annotations

from fixture_files import FixtureCase
from merkle_pass import run_merkle_pass
from outcomes import Outcomes

RUNNERS = {"merkle": run_merkle_pass}


def test_fixture(fixture_case: FixtureCase, ef_pass: str, outcomes: Outcomes) -> None:
    RUNNERS[ef_pass](fixture_case.load(), outcomes)
