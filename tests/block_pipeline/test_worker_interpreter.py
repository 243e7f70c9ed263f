"""A worker process runs with the node's interpreter settings (``pipeline.interpreter``)."""

from __future__ import annotations

import pytest
import trio
from interpreter_handler import InterpreterHandler

from pipeline.interpreter import SWITCH_INTERVAL_S, YOUNG_COLLECTION_THRESHOLD
from pipeline.processes import WorkerProcess


@pytest.mark.integration  # a real worker process
def test_a_worker_collects_young_objects_as_the_node_does() -> None:
    worker = WorkerProcess("balrex-test-interpreter", InterpreterHandler)
    try:
        worker.wait_ready()
        thresholds, switch_interval = trio.run(worker.request, None)
    finally:
        worker.stop()
    assert thresholds[0] == YOUNG_COLLECTION_THRESHOLD
    assert switch_interval == pytest.approx(SWITCH_INTERVAL_S)
