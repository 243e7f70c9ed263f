"""Alternated rounds: the same runs made several times in turns, summarized by min and median.

One wall time on a shared two-core machine moves by several percent from run
to run, and the machine drifts over minutes, so a ratio of two runs made once,
one after the other, carries that drift (the BAL path's CPU over the streaming
run's was seen anywhere from 0.95 to 1.22 in single ``--compare`` runs of one
session). Both ``import-bench --rounds N`` (streaming and BAL path, or
streaming and py-evm) and ``make bench-against`` (this checkout and another
revision) therefore make their runs in rounds, each run going first in every
other round, and report each run's min (the least disturbed) and median (the
typical) wall time and the ratios of those.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

Name = TypeVar("Name")

#: The ratios a comparison is judged by, as (numerator, denominator) run keys when both ran:
#: the BAL path over streaming (Amsterdam chain), our streaming import over py-evm's (Prague chain).
RATIOS = (("with_bal", "baseline"), ("baseline", "py_evm"))


def alternation(names: Sequence[Name], rounds: int) -> list[tuple[Name, int]]:
    """The run order: (name, round number), the names in turn and reversed every other round.

    With two names: A, B, B, A, A, B, ... On a shared machine the second run
    of a pair was seen to be the slower one in some sessions and not in others;
    a name that always ran first would carry that effect alone.
    """
    order: list[tuple[Name, int]] = []
    for number in range(1, rounds + 1):
        turn = names if number % 2 else names[::-1]
        order.extend((name, number) for name in turn)
    return order


def spread(values: Sequence[float]) -> dict[str, float]:
    """Min and median of some wall times (min: least disturbed by the machine; median: typical)."""
    if not values:
        raise ValueError("no wall times to summarize")
    return {"min": min(values), "median": statistics.median(values)}


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def median_known(values: Sequence[float | None]) -> float | None:
    """The median of the values that were recorded (None where none was)."""
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def representative_round(walls: Sequence[float]) -> int:
    """The index of the run with the median wall time (the lower one of two middles).

    The report's tables and timelines show this run of each name: a typical
    run, where the fastest would flatter and an average is no run at all.
    """
    ranked = sorted(range(len(walls)), key=lambda index: walls[index])
    return ranked[(len(ranked) - 1) // 2]


def rounds_summary(runs: Mapping[str, Sequence[Mapping[str, Any]]], order: Sequence[str]) -> dict[str, Any]:
    """Each name's min and median wall time and median cores busy; the ratios of :data:`RATIOS`.

    ``runs[name]`` lists that name's run reports in round order (each with
    ``summary.wall_s`` and ``summary.cores_busy``); ``order`` is the order they
    ran in (``name-round``). A ratio's ``min`` and ``median`` divide the two
    names' mins and medians; ``per_round`` divides the two runs of each
    round, which were made back to back.
    """
    walls = {name: [float(run["summary"]["wall_s"]) for run in made] for name, made in runs.items()}
    stats = {name: spread(values) for name, values in walls.items()}
    ratios: dict[str, Any] = {}
    for numerator, denominator in RATIOS:
        if numerator in walls and denominator in walls:
            ratios[f"{numerator}/{denominator}"] = {
                stat: ratio(stats[numerator][stat], stats[denominator][stat]) for stat in ("min", "median")
            } | {
                "per_round": [
                    ratio(above, below)
                    for above, below in zip(walls[numerator], walls[denominator], strict=True)
                ]
            }
    return {
        "count": min(len(values) for values in walls.values()),
        "order": list(order),
        "wall_s": {name: {"runs": values, **stats[name]} for name, values in walls.items()},
        "cores_busy_median": {
            name: median_known([run["summary"].get("cores_busy") for run in made])
            for name, made in runs.items()
        },
        "ratios": ratios,
    }
