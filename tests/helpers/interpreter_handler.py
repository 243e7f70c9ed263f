"""A worker-process handler answering with its interpreter's settings (importable in a spawned worker)."""

from __future__ import annotations

import gc
import sys

from storeless_handler import StorelessHandler


class InterpreterHandler(StorelessHandler):
    """Answers any request with the worker's collector thresholds and switch interval."""

    def handle(self, request: object) -> tuple[tuple[int, int, int], float]:
        return gc.get_threshold(), sys.getswitchinterval()
