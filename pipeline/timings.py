"""Per-block stage timings, as pipeline.md §5 defines them, from monotonic clocks.

Each stage records a span (start, end) in seconds since the block was
received (the merkleizer's starts before 0, negative, when it began on the
block while the block before it finished: ``import_block``'s ``next_bal``);
the table's metrics are derived from the spans, so they are consistent with
each other by construction:

* exec: the executor's span (first transaction to last check);
* warmer: the warmer's span (BAL path only);
* merkle concurrent: the part of the merkleizer's span inside exec's span;
* merkle drain: from exec's end until the root is ready (0 if it was ready first);
* merkle overlap: the share of the merkleizer's span that ended before exec did;
* later: the later-part worker's round trip (BAL path, blocks split in two);
* store: the atomic write; prepare: decoding and checks before the tasks start;
* wall: received to stored; wall = prepare + exec + merkle drain + store + other,
  where *other* is what no stage holds (task start-up, thread hand-offs, the
  root check), itemized so the sum is exact.

Spans are written from the executor's and warmer's threads too; each thread
writes its own key, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

STAGES = ("prepare", "exec", "warmer", "merkle", "later", "store")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class StageTimings:
    received: float = field(default_factory=time.perf_counter)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    finished: float | None = None
    # The executor's reads of the parent state: served by the warmer, or read by itself.
    warm_hits: int | None = None
    warm_misses: int | None = None
    # BAL path, EIP-7928 parallel execution: transactions run by the later-part worker
    # (its span is "later"), those the executor took back from the part's end
    # (``LaterPart.steal``), and why the split run failed when the block was run again whole.
    later_txs: int = 0
    stolen_txs: int = 0
    fallback: str | None = None
    # The block executed against the flat state (its parent holds it), not through the parent's tries.
    flat_state: bool = False

    def now(self) -> float:
        """Seconds since the block was received."""
        return time.perf_counter() - self.received

    def record(self, stage: str, start: float) -> None:
        """End ``stage``'s span now; it began at ``start`` (a :meth:`now` value)."""
        self.spans[stage] = (start, self.now())

    def record_between(self, stage: str, started: float, ended: float) -> None:
        """Record ``stage``'s span from two ``time.perf_counter()`` readings, which may precede the block."""
        self.spans[stage] = (started - self.received, ended - self.received)

    @contextmanager
    def span(self, stage: str) -> Iterator[None]:
        start = self.now()
        try:
            yield
        finally:
            self.record(stage, start)

    def finish(self) -> None:
        self.finished = time.perf_counter() - self.received

    def seconds(self, stage: str) -> float | None:
        span = self.spans.get(stage)
        return None if span is None else span[1] - span[0]

    @property
    def wall(self) -> float | None:
        return self.finished

    @property
    def merkle_concurrent(self) -> float | None:
        merkle, exec_ = self.spans.get("merkle"), self.spans.get("exec")
        if merkle is None or exec_ is None:
            return None
        return max(0.0, min(merkle[1], exec_[1]) - max(merkle[0], exec_[0]))

    @property
    def merkle_drain(self) -> float | None:
        merkle, exec_ = self.spans.get("merkle"), self.spans.get("exec")
        if merkle is None or exec_ is None:
            return None
        return max(0.0, merkle[1] - exec_[1])

    @property
    def merkle_overlap_pct(self) -> float | None:
        merkle, exec_ = self.spans.get("merkle"), self.spans.get("exec")
        if merkle is None or exec_ is None:
            return None
        total = merkle[1] - merkle[0]
        if total <= 0:
            return 100.0
        return 100.0 * max(0.0, min(merkle[1], exec_[1]) - merkle[0]) / total

    @property
    def unstaged(self) -> float | None:
        """Wall time outside prepare, exec, merkle drain and store."""
        if self.wall is None:
            return None
        staged = [self.seconds("prepare"), self.seconds("exec"), self.merkle_drain, self.seconds("store")]
        return self.wall - sum(s for s in staged if s is not None)

    @property
    def warm_hit_pct(self) -> float | None:
        if self.warm_hits is None or self.warm_misses is None:
            return None
        reads = self.warm_hits + self.warm_misses
        return 100.0 * self.warm_hits / reads if reads else 100.0

    def as_row(self) -> dict[str, Any]:
        """The block's metrics in milliseconds (the import-bench JSON's block fields), plus the timeline."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(1000 * value, 3)

        return {
            "wall_ms": ms(self.wall),
            "prepare_ms": ms(self.seconds("prepare")),
            "exec_ms": ms(self.seconds("exec")),
            "warmer_ms": ms(self.seconds("warmer")),
            "merkle_ms": ms(self.seconds("merkle")),
            "merkle_concurrent_ms": ms(self.merkle_concurrent),
            "merkle_drain_ms": ms(self.merkle_drain),
            "merkle_overlap_pct": _rounded(self.merkle_overlap_pct),
            "later_ms": ms(self.seconds("later")),
            "later_txs": self.later_txs,
            "stolen_txs": self.stolen_txs,
            "fallback": self.fallback,
            "flat_state": self.flat_state,
            "store_ms": ms(self.seconds("store")),
            "other_ms": ms(self.unstaged),
            "warm_hits": self.warm_hits,
            "warm_misses": self.warm_misses,
            "timeline": {
                stage: None if stage not in self.spans else [ms(t) for t in self.spans[stage]]
                for stage in STAGES
            },
        }
