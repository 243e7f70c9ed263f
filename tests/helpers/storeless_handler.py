"""The idle hints and the close of a worker-process handler that reads no store: nothing to do."""

from __future__ import annotations


class StorelessHandler:
    """Base of the tests' handlers (``pipeline.processes.Handler``): they open, replay and hold nothing."""

    def open(self, db_path: str) -> None:
        pass

    def catch_up(self, db_path: str) -> None:
        pass

    def close(self) -> None:
        pass
