"""Event-driven list scheduling of one block's dependency graph on ``w`` workers.

Time advances from completion to completion. At each instant every
transaction finishing then is retired first (its successors may become
ready, at that instant), then free workers take ready transactions in the
strategy's priority order. The three ready-queue priorities:

* ``canonical``: transaction index;
* ``gas_lpt``: largest duration first, then index;
* ``critical_path``: own duration plus the longest chain of successors
  (bottom level), largest first, then duration, then index.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from .analysis import BlockGraph

STRATEGIES = ("canonical", "gas_lpt", "critical_path")

_PRIORITIES: dict[str, Callable[[BlockGraph, int], tuple[int, ...]]] = {
    "canonical": lambda graph, p: (p,),
    "gas_lpt": lambda graph, p: (-graph.durations[p], p),
    "critical_path": lambda graph, p: (-graph.bottom_level[p], -graph.durations[p], p),
}


class UnknownStrategy(ValueError):
    """A ready-queue strategy that is not one of :data:`STRATEGIES`."""


@dataclass(frozen=True)
class BlockSchedule:
    """Where and when each transaction (by position) ran."""

    workers: int
    strategy: str
    starts: tuple[int, ...]
    finishes: tuple[int, ...]
    ready_times: tuple[int, ...]
    worker_ids: tuple[int, ...]

    @property
    def makespan(self) -> int:
        return max(self.finishes, default=0)

    @property
    def ready_queue_wait(self) -> int:
        """Time spent ready but not running: the sum of (start - first time ready)."""
        return sum(start - ready for start, ready in zip(self.starts, self.ready_times, strict=True))

    def preserves_dependencies(self, graph: BlockGraph) -> bool:
        """Whether no transaction started before every predecessor had finished.

        Checking the direct predecessors suffices: each finishes after its own predecessors.
        """
        finish_of = self.finishes.__getitem__
        return all(
            self.starts[p] >= max(map(finish_of, before), default=0)
            for p, before in enumerate(graph.predecessors)
        )


def simulate(graph: BlockGraph, workers: int, strategy: str) -> BlockSchedule:
    """List-schedule ``graph`` on ``workers`` workers with the ``strategy`` ready-queue order."""
    if strategy not in _PRIORITIES:
        raise UnknownStrategy(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    priority = _PRIORITIES[strategy]
    count = graph.tx_count
    waiting = [len(before) for before in graph.predecessors]
    starts = [0] * count
    finishes = [0] * count
    ready_times = [0] * count
    worker_ids = [0] * count
    ready = [(priority(graph, p), p) for p in range(count) if not waiting[p]]
    heapq.heapify(ready)
    running: list[tuple[int, int]] = []
    free_workers = list(range(workers))
    now = 0
    while ready or running:
        while ready and free_workers:
            _, position = heapq.heappop(ready)
            worker = heapq.heappop(free_workers)
            starts[position] = now
            finishes[position] = now + graph.durations[position]
            worker_ids[position] = worker
            heapq.heappush(running, (finishes[position], position))
        now = running[0][0]
        while running and running[0][0] == now:
            _, position = heapq.heappop(running)
            heapq.heappush(free_workers, worker_ids[position])
            for successor in graph.successors[position]:
                waiting[successor] -= 1
                if not waiting[successor]:
                    ready_times[successor] = now
                    heapq.heappush(ready, (priority(graph, successor), successor))
    return BlockSchedule(
        workers, strategy, tuple(starts), tuple(finishes), tuple(ready_times), tuple(worker_ids)
    )
