"""The payloads this node found invalid, remembered so that a repeat is answered at once.

A consensus client may send the same invalid payload again, or a descendant of
it, or a forkchoice naming it; each is answered from here with the verdict the
first import gave (its ``latestValidHash`` and ``validationError``) instead of
importing again. The memory is bounded: past :data:`CAPACITY` entries the
oldest verdict is forgotten (a forgotten payload is simply imported again).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

CAPACITY = 4096


@dataclass(frozen=True)
class InvalidVerdict:
    latest_valid_hash: bytes | None
    validation_error: str


class InvalidPayloads:
    """Block hash -> the verdict that made it invalid, the oldest forgotten first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._verdicts: OrderedDict[bytes, InvalidVerdict] = OrderedDict()

    def remember(self, block_hash: bytes, latest_valid_hash: bytes | None, error: str) -> None:
        self._verdicts[block_hash] = InvalidVerdict(latest_valid_hash, error)
        while len(self._verdicts) > self.capacity:
            self._verdicts.popitem(last=False)

    def get(self, block_hash: bytes) -> InvalidVerdict | None:
        return self._verdicts.get(block_hash)

    def __contains__(self, block_hash: bytes) -> bool:
        return block_hash in self._verdicts

    def __len__(self) -> int:
        return len(self._verdicts)
