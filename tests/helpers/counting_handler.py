"""A worker-process handler that records its idle hints (importable by name in a spawned worker)."""

from __future__ import annotations

from storeless_handler import StorelessHandler


class CountingHandler(StorelessHandler):
    """Answers every request with the hints it was sent so far, in order: ``(kind, store path)``."""

    def __init__(self, *shared: object) -> None:
        """``shared``: whatever its pool hands a handler (a later-part pool's claims board), unused."""
        self.hints: list[tuple[str, str]] = []

    def handle(self, request: object) -> list[tuple[str, str]]:
        return self.hints

    def open(self, db_path: str) -> None:
        self.hints.append(("open", db_path))

    def catch_up(self, db_path: str) -> None:
        self.hints.append(("catch up", db_path))
