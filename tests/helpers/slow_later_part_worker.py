"""A later-part worker that starts each part late, so the node's process is done first and steals
(importable by name in a spawned worker)."""

from __future__ import annotations

import time

from client.forks.amsterdam.later_part import PartResult
from client.later_part_worker import LaterPartWorker

DELAY_S = 0.5


class SlowLaterPartWorker(LaterPartWorker):
    def handle(self, request: object) -> PartResult:
        time.sleep(DELAY_S)
        return super().handle(request)
