"""Which cores the BAL path's three processes run on (:func:`plan_cores`, :func:`pin`).

On the BAL path three CPU-bound processes share the machine: the node's
(prepare, its part of the block, the block's tail), the later-part worker's
(the rest of the block) and the merkleizer's (niced, ahead of its block).
On two cores the kernel's scheduler moved the node's and the later-part
worker's processes between the cores and onto the same core for slices of
a block; the node's process is the block's critical path, so each such slice
delayed the block. Given a core each, with the merkleizer's worker free to run
on either (at its lower priority it takes what the other two leave), the
import-bench BAL run kept both cores busier (1.85-1.91 against 1.79-1.84) and
was faster in most alternated pairs (the README's session 19 has the numbers).

Affinity is a thread's, inherited by the threads and processes it starts, so
:func:`pin` sets it on every thread the process has (the executor's threads
are kept for reuse between blocks, and between import-bench runs) and each
worker pins itself first thing (``pipeline.processes.serve``). Only the
long-running commands (the node, import-bench) ask for a plan: a test run or
the EF runner, which run several importers side by side, must not pin them
all to one core.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

Cores = frozenset[int]


@dataclass(frozen=True)
class CorePlan:
    """The cores each of the BAL path's processes may run on."""

    node: Cores
    later_part: Cores
    merkle: Cores


def available_cores() -> Cores:
    """The cores this process may run on (its affinity), or none where the platform cannot say."""
    if not hasattr(os, "sched_getaffinity"):
        return frozenset()
    return frozenset(os.sched_getaffinity(0))


def plan_cores(available: Collection[int]) -> CorePlan | None:
    """A core for the node's process and one for the later-part worker; the merkleizer's workers get
    the cores left, or every core when none is left. None with fewer than two cores (nothing to share)."""
    ordered = sorted(available)
    if len(ordered) < 2:
        return None
    node, later_part, rest = ordered[0], ordered[1], ordered[2:]
    return CorePlan(
        node=frozenset({node}),
        later_part=frozenset({later_part}),
        merkle=frozenset(rest or ordered),
    )


_THREADS = Path("/proc/self/task")


def pin(cores: Cores | None) -> None:
    """Run this process, every thread it has and what they start, on ``cores`` (None or empty: leave it)."""
    if not cores or not hasattr(os, "sched_setaffinity"):
        return
    # Linux takes a thread id where it takes a pid; 0 is the calling thread.
    thread_ids = [int(entry.name) for entry in _THREADS.iterdir()] if _THREADS.is_dir() else [0]
    for thread_id in thread_ids:
        try:
            os.sched_setaffinity(thread_id, cores)
        except ProcessLookupError:
            pass  # the thread ended meanwhile
