"""A worker-process handler that answers with its own clock (importable by name in a spawned worker)."""

from __future__ import annotations

import time

from storeless_handler import StorelessHandler


class ClockHandler(StorelessHandler):
    """Sleeps for the requested seconds, then answers with ``time.perf_counter()`` as it returns."""

    def handle(self, request: object) -> float:
        assert isinstance(request, float)
        time.sleep(request)
        return time.perf_counter()
