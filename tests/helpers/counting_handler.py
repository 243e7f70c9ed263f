"""A worker-process handler that counts its catch-ups (importable by name in a spawned worker)."""

from __future__ import annotations


class CountingHandler:
    """Answers every request with how many times it was told to catch up so far."""

    def __init__(self) -> None:
        self.catch_ups = 0

    def handle(self, request: object) -> int:
        return self.catch_ups

    def catch_up(self) -> None:
        self.catch_ups += 1

    def close(self) -> None:
        pass
