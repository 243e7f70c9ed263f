"""The BAL path's processes get a core each (``pipeline.cores``)."""

from __future__ import annotations

import os

import pytest
import trio
from affinity_handler import AffinityHandler

from pipeline.cores import CorePlan, available_cores, plan_cores
from pipeline.processes import WorkerProcess


def test_two_cores_give_the_node_and_the_later_part_one_each_and_share_the_merkleizer() -> None:
    assert plan_cores({1, 0}) == CorePlan(
        node=frozenset({0}), later_part=frozenset({1}), merkle=frozenset({0, 1})
    )


def test_more_cores_leave_the_merkleizer_the_rest() -> None:
    assert plan_cores([9, 3, 7, 5]) == CorePlan(
        node=frozenset({3}), later_part=frozenset({5}), merkle=frozenset({7, 9})
    )


@pytest.mark.parametrize("cores", [set(), {4}])
def test_fewer_than_two_cores_make_no_plan(cores: set[int]) -> None:
    assert plan_cores(cores) is None


def test_this_process_may_run_on_its_affinity() -> None:
    assert available_cores() == frozenset(os.sched_getaffinity(0))


def _ask(cores: frozenset[int] | None, request: object) -> list[frozenset[int]]:
    worker = WorkerProcess("balrex-test-affinity", AffinityHandler, cores=cores)
    try:
        worker.wait_ready()
        answer = trio.run(worker.request, request)
    finally:
        worker.stop()
    assert isinstance(answer, list)
    return answer


@pytest.mark.integration  # real worker processes
def test_a_worker_runs_on_the_cores_it_is_given_and_else_on_the_nodes() -> None:
    last = frozenset({max(available_cores())})
    assert set(_ask(last, None)) == {last}
    assert set(_ask(None, None)) == {available_cores()}


@pytest.mark.integration  # pins a throwaway worker process, never the test's own
def test_pin_moves_every_thread_of_the_process() -> None:
    first = frozenset({min(available_cores())})
    cores = _ask(None, first)
    assert len(cores) >= 2  # the worker's main thread and the one it started
    assert set(cores) == {first}
