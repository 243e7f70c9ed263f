"""import-bench's CPU accounting (``client.tools.import_bench.cpu``): each process's time, from the OS."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from multiprocessing.synchronize import Event

import pytest

from client.tools.import_bench.cpu import NODE, CpuMeter, process_cpu_seconds

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

BURN_S = 0.3


def _burn(seconds: float) -> None:
    """Use about ``seconds`` of CPU."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_process_cpu_time_grows_as_it_works() -> None:
    before = process_cpu_seconds(os.getpid())
    assert before is not None
    _burn(BURN_S)
    after = process_cpu_seconds(os.getpid())
    assert after is not None
    # /proc counts in clock ticks (10 ms on Linux): allow a tick either way.
    assert after - before == pytest.approx(BURN_S, abs=0.05)


def test_an_unknown_process_has_no_cpu_time() -> None:
    child = multiprocessing.get_context("spawn").Process(target=_burn, args=(0.0,))
    child.start()
    child.join()
    assert child.pid is not None and process_cpu_seconds(child.pid) is None  # reaped: gone from /proc


def _worker(ready: Event, go: Event, done: Event, leave: Event) -> None:
    """Burn :data:`BURN_S` of CPU when told, then stay alive (readable) until told to leave."""
    ready.set()
    go.wait(60)
    _burn(BURN_S)
    done.set()
    leave.wait(60)


def test_the_meter_counts_the_node_and_each_worker() -> None:
    """Each worker's time between start and stop under its name, the node's under ``node``, and their
    sum over the wall time as ``cores_busy``."""
    context = multiprocessing.get_context("spawn")
    ready, go, done, leave = (context.Event() for _ in range(4))
    worker = context.Process(target=_worker, args=(ready, go, done, leave), name="balrex-test-worker")
    worker.start()
    try:
        assert ready.wait(60), "the worker did not start"
        meter = CpuMeter([worker])
        meter.start()
        started = time.perf_counter()
        go.set()
        _burn(BURN_S)
        assert done.wait(60), "the worker did not finish"
        wall_s = time.perf_counter() - started
        summary = meter.stop(wall_s)
    finally:
        leave.set()
        worker.join(60)
    node_s, workers_s = summary["cpu_node_s"], summary["cpu_workers_s"]
    assert isinstance(node_s, float) and isinstance(workers_s, float)
    assert node_s == pytest.approx(BURN_S, abs=0.1)
    assert workers_s == pytest.approx(BURN_S, abs=0.05)
    assert summary["cpu_s"] == {NODE: node_s, "balrex-test-worker": workers_s}
    assert summary["cores_busy"] == pytest.approx((node_s + workers_s) / wall_s, abs=0.01)


def test_a_worker_that_cannot_be_read_makes_the_totals_null() -> None:
    """A worker gone by the end of the run (reaped) has no figure; the totals are not guessed."""
    context = multiprocessing.get_context("spawn")
    ready, go, done, leave = (context.Event() for _ in range(4))
    worker = context.Process(target=_worker, args=(ready, go, done, leave), name="balrex-test-worker")
    worker.start()
    assert ready.wait(60), "the worker did not start"
    meter = CpuMeter([worker])
    meter.start()
    go.set()
    leave.set()
    worker.join(60)
    summary = meter.stop(wall_s=1.0)
    assert summary["cpu_s"] == {NODE: summary["cpu_node_s"], "balrex-test-worker": None}
    assert summary["cpu_workers_s"] is None and summary["cores_busy"] is None
