"""A worker process runs with the node's interpreter settings (``pipeline.interpreter``)."""

from __future__ import annotations

import os
import signal

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


@pytest.mark.integration  # a real worker process
def test_a_worker_leaves_ctrl_c_to_the_node() -> None:
    """Ctrl+C reaches every process of a terminal's foreground group; the node shuts the workers down."""
    worker = WorkerProcess("balrex-test-sigint", InterpreterHandler)
    try:
        worker.wait_ready()
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGINT)
        assert trio.run(worker.request, None) is not None  # still alive, still answering
    finally:
        worker.stop()
    assert worker.process.exitcode == 0  # it ended on the node's Stop, not on the signal
