"""The later-part split is measured from when the worker finished, not when the node read the reply."""

from __future__ import annotations

import time

import pytest
import trio
from clock_handler import ClockHandler

from pipeline.later_part import RemotePart
from pipeline.processes import WorkerProcess


@pytest.mark.integration  # a real worker process
def test_an_answer_carries_when_the_worker_finished_on_the_nodes_clock() -> None:
    worker = WorkerProcess("balrex-test-clock", ClockHandler)
    try:
        worker.wait_ready()
        sent = time.perf_counter()
        worker_clock = trio.run(worker.request, 0.05)
        read = time.perf_counter()
        assert isinstance(worker_clock, float)
        # The stamp is taken after the handler returned, on a clock the node shares.
        assert sent + 0.05 <= worker_clock <= worker.last_finished <= read
    finally:
        worker.stop()


class _SlowToReadPool:
    """Stands in for a LaterPartPool: the part finished 0.1 s after it was sent; the reply is read later."""

    def __init__(self) -> None:
        self.observed: tuple[int, float, int, float] | None = None

    def open_claims(self, first: int, end: int) -> None:
        return None

    async def run(self, *args: object) -> tuple[object, float]:
        sent = time.perf_counter()
        await trio.sleep(0.3)  # the node reads the reply long after the worker finished
        return "answer", sent + 0.1

    def observe(self, first: int, first_seconds: float, later: int, later_seconds: float) -> None:
        self.observed = (first, first_seconds, later, later_seconds)


class _Outline:
    transaction_count = 10


def test_the_split_is_told_the_workers_finish_time() -> None:
    pool = _SlowToReadPool()
    part = RemotePart(first=4)
    trio.run(part.fetch, pool, None, _Outline(), b"", None)
    assert part.result() == "answer"
    assert pool.observed is not None
    first, _, later, later_seconds = pool.observed
    assert (first, later) == (4, 6)
    assert later_seconds == pytest.approx(0.1, abs=0.01)  # not the 0.3 s until the reply was read
