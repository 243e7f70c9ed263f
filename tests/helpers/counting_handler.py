"""A worker-process handler that records its catch-up hints (importable by name in a spawned worker)."""

from __future__ import annotations


class CountingHandler:
    """Answers every request with the store paths of the catch-up hints it was sent so far, in order."""

    def __init__(self, *shared: object) -> None:
        """``shared``: whatever its pool hands a handler (a later-part pool's claims board), unused."""
        self.catch_ups: list[str] = []

    def handle(self, request: object) -> list[str]:
        return self.catch_ups

    def catch_up(self, db_path: str) -> None:
        self.catch_ups.append(db_path)

    def close(self) -> None:
        pass
