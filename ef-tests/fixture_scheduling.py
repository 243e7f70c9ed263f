"""Sharing the EF fixtures among pytest-xdist workers one fixture file at a time.

Every test of the runner is a parameter of the one test function in
``test_ef_fixtures.py``, so xdist's ``--dist loadfile`` would hand the whole
run to one worker, and ``--dist load`` would deal the tests of one fixture
file to several workers, each of which then parses the (often large) JSON
file again. :class:`FixtureFileScheduling` groups by fixture file instead: a
file's tests run on one worker, which parses it once (``fixture_files``
caches the last files read), and the files are dealt out largest first (xdist's
scope reordering), so the last file to finish is a small one.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling


def fixture_file_scope(nodeid: str) -> str:
    """The fixture file a test's node id names: its parameter up to the test's variant.

    ``ef-tests/test_ef_fixtures.py::test_fixture[blockchain_tests/.../tx_nonce[fork_X-...]]``
    gives ``blockchain_tests/.../tx_nonce`` (``FixtureCase.short_id`` is the
    file's path without ``.json``, then the variant in brackets; paths hold no
    bracket). Any other node id is a scope of its own.
    """
    _, bracket, parameter = nodeid.partition("[")
    if not bracket:
        return nodeid
    path, variant, _ = parameter.partition("[")
    return path if variant else nodeid


class FixtureFileScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with one scope per fixture file."""

    def _split_scope(self, nodeid: str) -> str:
        return fixture_file_scope(nodeid)
