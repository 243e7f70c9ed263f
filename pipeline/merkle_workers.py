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
from typing import Any, Protocol

import trio

from bal.deltas import AccountDelta
from merkle.optimistic import MerkleResult, MerkleSession, StorageJob, StorageRoots
from merkle.stages import ParentStateMissing
from merkle.worker_process import serve
from storage import RocksStore, Store


class MerkleWorkerFailed(RuntimeError):
    """A worker process died or failed for a reason that is not the block's fault."""


class Merkleizer(Protocol):
    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult: ...


class InlineMerkleizer:
    """The merkleizer in a thread of this process (in-memory stores; no real overlap)."""

    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        return await trio.to_thread.run_sync(MerkleSession(store, parent_root, deltas).run)


def default_worker_count() -> int:
    """One core executes; the merkleizer gets the others (at least one worker)."""
    return max(1, (os.cpu_count() or 2) - 1)


class _WorkerProcess:
    def __init__(self, index: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child,), name=f"balrex-merkle-{index}", daemon=True
        )
        self.process.start()
        child.close()
        self.busy = False

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    async def request(self, message: tuple[Any, ...]) -> Any:
        self.busy = True
        try:
            self.conn.send(message)
            await trio.lowlevel.wait_readable(self.conn)
            reply = self.conn.recv()
        except BaseException:
            # Cancelled mid-job, or the process died: never leave it working on a dead block.
            self.kill()
            raise
        finally:
            self.busy = False
        if reply[0] == "ok":
            return reply[1]
        _, kind, message_text = reply
        if kind == "parent-state-missing":
            raise ParentStateMissing(message_text)
        raise MerkleWorkerFailed(f"{self.process.name}: {message_text}")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Ask the worker to exit; kill it if it does not within two seconds."""
        if self.alive():
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
            self.process.join(timeout=2)
        self.kill()


class MerkleWorkerPool:
    """Merkleizer worker processes over a RocksDB store, started on first use."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or default_worker_count()
        self._workers: list[_WorkerProcess | None] = [None] * self.size

    def _worker(self, index: int) -> _WorkerProcess:
        worker = self._workers[index]
        if worker is None or not worker.alive():
            worker = self._workers[index] = _WorkerProcess(index)
        return worker

    def start(self) -> None:
        """Start every worker and wait until each has imported its code and answers.

        Else the first block would pay for starting Python in every worker.
        """
        for index in range(self.size):
            worker = self._worker(index)
            worker.conn.send(("ping",))
            if worker.conn.recv() != ("ok", "ready"):
                raise MerkleWorkerFailed(f"{worker.process.name} did not start")

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
                self._workers[index] = _WorkerProcess(index)

    async def _merkleize(
        self, db_path: str, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        lead = self._worker(0)
        if self.size == 1:
            result: MerkleResult = await lead.request(("run", db_path, parent_root, tuple(deltas)))
            return result
        jobs: list[StorageJob] = await lead.request(("walk", db_path, parent_root, tuple(deltas)))
        parts = deal_by_slots(jobs, self.size)
        found: list[StorageRoots] = []

        async def stage_b(index: int, part: list[StorageJob]) -> None:
            found.append(await self._worker(index).request(("storage", db_path, part)))

        async with trio.open_nursery() as nursery:
            for index, part in enumerate(parts):
                if part:
                    nursery.start_soon(stage_b, index, part)
        roots = {a: r for part in found for a, r in part.roots.items()}
        result = await lead.request(("finish", roots))
        nodes = {h: n for part in found for h, n in part.nodes.items()}
        nodes.update(result.nodes)
        return MerkleResult(result.state_root, result.accounts, nodes)

    def close(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker is not None:
                worker.stop()
                self._workers[index] = None


def deal_by_slots(jobs: Sequence[StorageJob], parts: int) -> list[list[StorageJob]]:
    """Split stage-B jobs into ``parts`` lists of about equal slot counts (largest first)."""
    dealt: list[list[StorageJob]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for job in sorted(jobs, key=lambda j: len(j.storage), reverse=True):
        lightest = loads.index(min(loads))
        dealt[lightest].append(job)
        loads[lightest] += len(job.storage) + 1
    return dealt
