"""A worker-process handler that claims indices on a shared board until refused
(importable by name in a spawned worker)."""

from __future__ import annotations

import time

from storeless_handler import StorelessHandler

from pipeline.later_part import TransactionClaims


class ClaimingHandler(StorelessHandler):
    """For a request ``(first, seconds_per_index)``: claim ``first``, ``first + 1``, ... until refused."""

    def __init__(self, claims: TransactionClaims) -> None:
        self.claims = claims

    def handle(self, request: object) -> list[int]:
        assert isinstance(request, tuple)
        index, pause = request
        taken = []
        while self.claims.take(index):
            taken.append(index)
            time.sleep(pause)
            index += 1
        return taken
