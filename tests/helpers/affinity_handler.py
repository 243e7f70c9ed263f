"""A worker-process handler reporting the cores its threads may run on (importable in a spawned worker)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from storeless_handler import StorelessHandler

from pipeline.cores import Cores, pin


def thread_cores() -> list[Cores]:
    """The affinity of every thread of this process."""
    return [frozenset(os.sched_getaffinity(int(task.name))) for task in Path("/proc/self/task").iterdir()]


class AffinityHandler(StorelessHandler):
    """``None``: answer the worker's threads' cores. A set of cores: start a thread, pin the
    process to those cores, and answer the cores of every thread then."""

    def handle(self, request: object) -> list[Cores]:
        if request is None:
            return thread_cores()
        assert isinstance(request, frozenset)
        release = threading.Event()
        idle = threading.Thread(target=release.wait)
        idle.start()
        try:
            pin(request)
            return thread_cores()
        finally:
            release.set()
            idle.join()
