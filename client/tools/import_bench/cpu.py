"""CPU time per process over a run, and how many cores the run kept busy on average.

The BAL path spreads a block over three processes (the node's, the
merkleizer's worker, the later-part worker) on a machine that may have only
two cores. Wall time alone cannot say whether a run was slow because work
waited (a core idle while the other finished something) or because there was
more work than the cores could do (both busy all along): the second is
fixed only by doing less work, and it sets a floor under the wall time of
``total CPU / cores``. So each run records the CPU time every one of its
processes used between the first block's arrival and the last block's store,
and ``cores_busy``, their sum over the wall time.

The node's own time is ``time.process_time`` (all its threads). A worker
process's comes from ``/proc/<pid>/stat`` (user plus system time), so on a
system without ``/proc`` the workers' figures are null rather than guessed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path

# /proc/<pid>/stat: after the ``(comm)`` field, utime and stime are the 12th and 13th.
_UTIME_AFTER_COMM = 11
_STIME_AFTER_COMM = 12
NODE = "node"


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` so far, or None if it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after its last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        ticks = int(fields[_UTIME_AFTER_COMM]) + int(fields[_STIME_AFTER_COMM])
    except (IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """The CPU time the node's process and its worker processes use from :meth:`start` to :meth:`stop`."""

    def __init__(self, workers: Sequence[BaseProcess]) -> None:
        """``workers``: the run's worker processes, already started (``processes`` of the pools)."""
        self._workers = [(process.name, process.pid) for process in workers if process.pid is not None]
        self._node_start = 0.0
        self._worker_start: dict[int, float | None] = {}

    def start(self) -> None:
        self._node_start = time.process_time()
        self._worker_start = {pid: process_cpu_seconds(pid) for _, pid in self._workers}

    def stop(self, wall_s: float) -> dict[str, object]:
        """The run's summary fields: ``cpu_s`` per process, the node's and the workers' totals,
        and ``cores_busy`` (all of it over ``wall_s``); a worker that could not be read makes
        the workers' total and ``cores_busy`` null."""
        node_s = time.process_time() - self._node_start
        worker_s = {name: self._used(pid) for name, pid in self._workers}
        known = [seconds for seconds in worker_s.values() if seconds is not None]
        workers_s = sum(known) if len(known) == len(worker_s) else None
        cores_busy = None if workers_s is None or wall_s <= 0 else (node_s + workers_s) / wall_s
        return {
            "cpu_s": {NODE: round(node_s, 3)}
            | {name: None if seconds is None else round(seconds, 3) for name, seconds in worker_s.items()},
            "cpu_node_s": round(node_s, 3),
            "cpu_workers_s": None if workers_s is None else round(workers_s, 3),
            "cores_busy": None if cores_busy is None else round(cores_busy, 3),
        }

    def _used(self, pid: int) -> float | None:
        began, ended = self._worker_start.get(pid), process_cpu_seconds(pid)
        return None if began is None or ended is None else ended - began
