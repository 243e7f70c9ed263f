"""Where the optimistic merkleizer runs: worker processes kept alive across blocks, or inline.

Why processes: trio tasks share one thread and the interpreter lock lets one
thread run Python at a time (pipeline.md §4), and both execution and trie
hashing are Python. Only a second process gives the merkleizer a core of its
own while the block executes. The workers are started once and reused, and
they read the parent trie through their own secondary RocksDB handle
(``merkle.worker_process``), so a block costs one round trip: the BAL's deltas
go in, the root, the account records and the new nodes come back.

With one worker (the default on 2 cores: the other core executes) a block is
one ``run`` request. With more, stage B is spread: the lead worker walks the
touched accounts' paths, the storage-root jobs are dealt out to every worker
by slot count, and the lead finishes stages C and D on the nodes it walked.

A worker that is waiting on a request when its task is cancelled (execution
failed, so the optimistic result is worthless) is killed at once and a fresh
one started in its place: no worker is ever left busy on a dead block, and the
next block does not wait for a worker to start.

:class:`InlineMerkleizer` runs the same steps in a thread of this process,
for in-memory stores, which another process cannot read.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from typing import Protocol, TypeVar

import trio

from bal.deltas import AccountDelta
from merkle.optimistic import MerkleResult, MerkleSession, StorageJob, StorageRoots
from merkle.stages import ParentStateMissing
from merkle.worker_process import FinishRequest, MerkleWorker, RunRequest, StorageRequest, WalkRequest
from storage import RocksStore, Store

from .processes import WorkerProcess

Reply = TypeVar("Reply")


class MerkleWorkerFailed(RuntimeError):
    """A worker process died or failed for a reason that is not the block's fault."""


# The merkleizer has slack (its root is ready well before execution ends), the
# executors do not: while all three are busy on two cores, the operating system
# gives its workers a smaller share. In alternating runs of the bench chain the
# BAL path's wall time was lower with 5 than with 0 in 6 of 7 pairs, and the
# drain stayed under 1 ms; with 10 the drain grew to 2-3.5 ms.
NICENESS = 5


async def _ask(worker: WorkerProcess, message: object, reply_type: type[Reply]) -> Reply:
    """One request; a parent node the worker could not find is the block's fault, all else ours."""
    try:
        reply = await worker.request(message)
    except ParentStateMissing:
        raise
    except Exception as exc:
        raise MerkleWorkerFailed(f"{worker.name}: {type(exc).__name__}: {exc}") from None
    if not isinstance(reply, reply_type):
        raise MerkleWorkerFailed(f"{worker.name}: answered {type(reply).__name__}, not {reply_type.__name__}")
    return reply


class Merkleizer(Protocol):
    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult: ...

    def catch_up(self) -> None:
        """Tell the merkleizer it is idle (a block was stored, the head moved), ahead of the next block.

        No waiting. What a worker does with it is ``merkle.worker_process.MerkleWorker.catch_up``.
        """
        ...


class InlineMerkleizer:
    """The merkleizer in a thread of this process (in-memory stores; no real overlap)."""

    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        return await trio.to_thread.run_sync(MerkleSession(store, parent_root, deltas).run)

    def catch_up(self) -> None:
        """Nothing to do: it reads the store itself."""


def default_worker_count() -> int:
    """One core executes; the merkleizer gets the others (at least one worker)."""
    return max(1, (os.cpu_count() or 2) - 1)


class MerkleWorkerPool:
    """Merkleizer worker processes over a RocksDB store, started on first use."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or default_worker_count()
        self._workers: list[WorkerProcess | None] = [None] * self.size

    def _worker(self, index: int) -> WorkerProcess:
        worker = self._workers[index]
        if worker is None or not worker.alive():
            worker = self._workers[index] = self._spawn(index)
        return worker

    @staticmethod
    def _spawn(index: int) -> WorkerProcess:
        return WorkerProcess(f"balrex-merkle-{index}", MerkleWorker, niceness=NICENESS)

    def launch(self) -> None:
        """Start every worker process without waiting for it (its imports overlap the caller's work)."""
        for index in range(self.size):
            self._worker(index)

    def start(self) -> None:
        """Start every worker (unless launched) and wait until each has imported its code and answers.

        Else the first block would pay for starting Python in every worker.
        """
        for index in range(self.size):
            self._worker(index).wait_ready()

    def catch_up(self) -> None:
        """Send every started, idle worker the hint (``WorkerProcess.catch_up``)."""
        for worker in self._workers:
            if worker is not None:
                worker.catch_up()

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        return [w.process for w in self._workers if w is not None]

    @property
    def busy(self) -> int:
        return sum(1 for w in self._workers if w is not None and w.busy)

    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        if not isinstance(store, RocksStore):
            raise TypeError("merkleizer workers read RocksDB; use InlineMerkleizer for other stores")
        try:
            return await self._merkleize(str(store.path), parent_root, deltas)
        except BaseException:
            self._replace_dead()
            raise

    def _replace_dead(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker is not None and not worker.alive():
                self._workers[index] = self._spawn(index)

    async def _merkleize(
        self, db_path: str, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        lead = self._worker(0)
        if self.size == 1:
            return await _ask(lead, RunRequest(db_path, parent_root, tuple(deltas)), MerkleResult)
        jobs = await _ask(lead, WalkRequest(db_path, parent_root, tuple(deltas)), tuple)
        shares = deal_by_slots(jobs, self.size)
        found: list[StorageRoots] = []

        async def stage_b(index: int, share: list[StorageJob]) -> None:
            request = StorageRequest(db_path, tuple(share))
            found.append(await _ask(self._worker(index), request, StorageRoots))

        async with trio.open_nursery() as nursery:
            for index, share in enumerate(shares):
                if share:
                    nursery.start_soon(stage_b, index, share)
        roots = {a: r for share in found for a, r in share.roots.items()}
        parent_slots = {a: v for share in found for a, v in share.parent_slots.items()}
        result = await _ask(lead, FinishRequest(roots, parent_slots), MerkleResult)
        nodes = {h: n for share in found for h, n in share.nodes.items()}
        nodes.update(result.nodes)
        return MerkleResult(result.state_root, result.accounts, nodes, result.flat_changes)

    def close(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker is not None:
                worker.stop()
                self._workers[index] = None


def deal_by_slots(jobs: Sequence[StorageJob], shares: int) -> list[list[StorageJob]]:
    """Split stage-B jobs into ``shares`` lists of about equal slot counts (largest first)."""
    dealt: list[list[StorageJob]] = [[] for _ in range(shares)]
    loads = [0] * shares
    for job in sorted(jobs, key=lambda j: len(j.storage), reverse=True):
        lightest = loads.index(min(loads))
        dealt[lightest].append(job)
        loads[lightest] += len(job.storage) + 1
    return dealt
