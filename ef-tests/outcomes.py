"""Counts of how a pass judged the fixtures' blocks, for the run's closing summary.

A block the fixtures expect to be invalid is never silently passed: a pass
either rejects it (and says by which rule) or leaves it to a later stage
(execution) and counts it as such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pipeline import StageTimings


@dataclass
class Outcomes:
    valid_blocks: int = 0
    seconds: float = 0.0  # time spent inside the pass, collection and reporting excluded
    # seconds per import stage (prepare, exec, merkle drain, store), summed over valid blocks
    stages: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    left_to_execution: Counter[str] = field(default_factory=Counter)
    # the executor's reads served by the warmer, and read by itself (BAL path)
    warm: list[int] = field(default_factory=lambda: [0, 0])
    # valid blocks executed in two parts (BAL path, EIP-7928 parallel execution)
    split_blocks: int = 0
    # engine pass: the node processes started and the seconds spent waiting for them to answer
    node_starts: int = 0
    node_start_seconds: float = 0.0

    def add_timings(self, timings: StageTimings) -> None:
        """Add a block's wall time split: prepare, exec, merkle drain (what exec did not hide), store."""
        drain = timings.merkle_drain
        for stage, seconds in (
            ("prepare", timings.seconds("prepare")),
            ("exec", timings.seconds("exec")),
            ("merkle drain", drain),
            ("store", timings.seconds("store")),
        ):
            self.stages[stage] += seconds or 0.0
        if timings.warm_hits is not None:
            self.warm[0] += timings.warm_hits
            self.warm[1] += timings.warm_misses or 0
        if timings.later_txs:
            self.split_blocks += 1

    def reject(self, rule: str, expected: str, message: str) -> None:
        """Count a block the fixture expects invalid (``expected``) that ``rule`` rejected.

        The counts need only the rule and the exception; ``message`` (the
        rejection's text) is for recorders that list examples
        (``ef-tests/rejections.py``).
        """
        self.rejected[f"{rule} (fixture expects {expected})"] += 1

    def to_wire(self) -> dict[str, Any]:
        """The counts as plain dicts, lists and numbers: what execnet sends from an xdist worker."""
        return {
            f.name: dict(value) if isinstance(value := getattr(self, f.name), Counter) else value
            for f in fields(self)
        }

    def add(self, wire: Mapping[str, Any]) -> None:
        """Add another worker's counts (as :meth:`to_wire` gave them) to these."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), wire[f.name]
            if isinstance(mine, Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine[:] = [a + b for a, b in zip(mine, theirs, strict=True)]
            else:
                setattr(self, f.name, mine + theirs)

    def summary_lines(self, pass_name: str) -> list[str]:
        rate = self.valid_blocks / self.seconds if self.seconds else 0.0
        lines = [
            f"{pass_name} pass: {self.valid_blocks} valid blocks checked "
            f"in {self.seconds:.1f} s ({rate:.0f} blocks/s); "
            f"invalid blocks: {sum(self.rejected.values())} rejected, "
            f"{sum(self.left_to_execution.values())} left to execution"
        ]
        if self.stages:
            total = sum(self.stages.values())
            lines.append(
                "  import time by stage: "
                + ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f}%)" for k, v in self.stages.items())
            )
        if sum(self.warm):
            lines.append(f"  warm cache: {100 * self.warm[0] / sum(self.warm):.1f}% of the executor's reads")
        if self.split_blocks:
            lines.append(f"  split in two parts (later transactions in a worker): {self.split_blocks} blocks")
        if self.node_starts:
            lines.append(
                f"  nodes started: {self.node_starts}, {self.node_start_seconds:.1f} s until they answered "
                f"({self.node_start_seconds / self.node_starts:.2f} s each)"
            )
        for rule, count in _by_count(self.rejected):
            lines.append(f"  rejected by {rule}: {count}")
        for exception, count in _by_count(self.left_to_execution):
            lines.append(f"  left to execution (fixture expects {exception}): {count}")
        return lines


def _by_count(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first, ties by name: the same lines whatever order the blocks (or workers) ran in."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
