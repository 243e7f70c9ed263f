"""A worker-process handler answering with its interpreter's settings (importable in a spawned worker)."""

from __future__ import annotations

import gc
import sys


class InterpreterHandler:
    """Answers any request with the worker's collector thresholds and switch interval."""

    def handle(self, request: object) -> tuple[tuple[int, int, int], float]:
        return gc.get_threshold(), sys.getswitchinterval()

    def open(self, db_path: str) -> None:
        pass

    def catch_up(self, db_path: str) -> None:
        pass

    def close(self) -> None:
        pass
