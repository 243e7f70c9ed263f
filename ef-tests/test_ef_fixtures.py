"""One pytest case per EF blockchain test; the pass chosen with --pass judges it."""

from __future__ import annotations

import time

from fixture_files import FixtureCase
from outcomes import Outcomes
from passes import PASSES


def test_fixture(fixture_case: FixtureCase, ef_pass: str, outcomes: Outcomes) -> None:
    test = fixture_case.load()
    started = time.perf_counter()
    try:
        PASSES[ef_pass](test, outcomes)
    finally:
        outcomes.seconds += time.perf_counter() - started
