"""The simulated schedules as Chrome trace-event JSON (opens in Perfetto or chrome://tracing).

One process per ready-queue strategy, one thread per worker; blocks follow one
another on the time axis (each starts where the previous block's schedule
ended). One duration unit (one gas, or one transaction without gas) is drawn as
one microsecond.
"""

from __future__ import annotations

from typing import Any

from .dossier import Dossier
from .schedule import STRATEGIES


def trace_events(dossier: Dossier, workers: int) -> dict[str, Any]:
    """The trace of every strategy's schedule on ``workers`` workers."""
    if workers not in dossier.workers:
        raise ValueError(f"no simulation for {workers} workers (simulated: {list(dossier.workers)})")
    events: list[dict[str, Any]] = []
    for pid, strategy in enumerate(STRATEGIES, start=1):
        events.append(
            {
                "name": "process_name",
                "ph": "M",
                "pid": pid,
                "args": {"name": f"{strategy}, {workers} workers"},
            }
        )
        events += [
            {
                "name": "thread_name",
                "ph": "M",
                "pid": pid,
                "tid": worker + 1,
                "args": {"name": f"worker {worker}"},
            }
            for worker in range(workers)
        ]
        offset = 0
        for graph, schedule in zip(dossier.graphs, dossier.schedules[(strategy, workers)], strict=True):
            for position, tx in enumerate(graph.block.transactions):
                events.append(
                    {
                        "name": f"block {graph.block.number} tx {tx.tx_index}",
                        "cat": strategy,
                        "ph": "X",
                        "pid": pid,
                        "tid": schedule.worker_ids[position] + 1,
                        "ts": offset + schedule.starts[position],
                        "dur": graph.durations[position],
                        "args": {
                            "block": graph.block.number,
                            "tx_index": tx.tx_index,
                            "tx_hash": tx.tx_hash,
                            "wave": graph.waves[position],
                            "conflict_degree": graph.conflict_degrees[position],
                            "ready_at": offset + schedule.ready_times[position],
                            "waited": schedule.starts[position] - schedule.ready_times[position],
                        },
                    }
                )
            offset += schedule.makespan
    return {"traceEvents": events, "displayTimeUnit": "ms"}
