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

When blocks are imported back to back (import-bench, a replay), the next
block's request is sent as soon as this block's root is known
(:meth:`MerkleWorkerPool.merkleize_ahead`): on its parent's root, whose new
nodes the worker still has cached, so it need not wait for them to be stored.
The worker then merkleizes while the node's process finishes this block alone
(its last checks, the store, fork choice) and the core would otherwise idle;
the next block takes the result only if it was made for exactly its parent
root and deltas. On the 50-block bench chain, three alternated pairs:
5.55-5.69 s against 5.86-6.81 s, cores busy 1.79-1.81 against 1.76-1.79.

A pool made with ``ahead`` > 1 (import-bench: :data:`REPLAY_AHEAD`) keeps
that many blocks' requests out: the block after next is chained on the root
the next one will produce (the worker keeps that block's nodes cached too),
so the worker always has a block to merkleize and can run at the lowest
priority, on whatever the two executing processes leave of either core,
instead of taking its share of the cores while they execute. With one
block ahead the cores were already busy 95% of a BAL-path import
(``/proc/stat``; a ``perf sched`` trace of another run: 98%), so there was
little idle time to fill: what two ahead at the lowest priority saved was
CPU time. In paired rounds the
node's process took 0.89-0.93 of its CPU time, the merkleizer 0.87-0.94,
the later-part worker 0.96-1.01 (medians of two sets of 8 and 12), as if
the processes ran in fewer, longer slices; :data:`AHEAD_NICENESS` has the
wall times.

:class:`InlineMerkleizer` runs the same steps in a thread of this process,
for in-memory stores, which another process cannot read.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import trio

from bal import BlockAccessList, synthesize_deltas
from bal.deltas import AccountDelta
from merkle.optimistic import MerkleResult, MerkleSession, StorageJob, StorageRoots
from merkle.stages import ParentStateMissing
from merkle.worker_process import FinishRequest, MerkleWorker, RunRequest, StorageRequest, WalkRequest
from storage import RocksStore, Store

from .cores import Cores
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
# Kept more than one block ahead (``MerkleWorkerPool(ahead=...)``), the merkleizer has slack
# enough to take only what the executing processes leave: its root is needed a block or more
# after the request. In alternated import-bench runs (bench chain, 2 cores), per round against
# one block ahead at niceness 5: two ahead at 19 took the BAL path's wall time to 0.921 and
# 0.944 (medians of 8 and 12 rounds, lower in 5 and 8); three ahead at 19 to 0.935 and 0.955;
# two ahead at 10 to 0.906 and 1.030; three ahead at the lowest class (SCHED_IDLE) to 0.959.
AHEAD_NICENESS = 19
# How far ahead the pool works for blocks imported back to back (import-bench, a replay).
REPLAY_AHEAD = 2


async def _ask(worker: WorkerProcess, message: object, reply_type: type[Reply]) -> Reply:
    """One request; a parent node the worker could not find is the block's fault, all else ours."""
    worker.send(message)
    return await _answer(worker, reply_type)


async def _answer(worker: WorkerProcess, reply_type: type[Reply]) -> Reply:
    """The reply to the request sent to ``worker`` last, checked as :func:`_ask` checks it."""
    try:
        reply = await worker.reply()
    except ParentStateMissing:
        raise
    except Exception as exc:
        raise MerkleWorkerFailed(f"{worker.name}: {type(exc).__name__}: {exc}") from None
    if not isinstance(reply, reply_type):
        raise MerkleWorkerFailed(f"{worker.name}: answered {type(reply).__name__}, not {reply_type.__name__}")
    return reply


@dataclass(frozen=True)
class MerkledAhead:
    """A merkleization started before its block (:meth:`Merkleizer.merkleize_ahead`), and when it ran.

    ``started`` and ``finished`` are ``time.perf_counter()`` readings (``finished`` the worker's,
    which on Linux is the same clock): the block's timeline shows the merkleizer's real span.
    ``started`` is when the request was sent or, chained on the one before it, when that one
    was done (the worker answers in order).
    """

    result: MerkleResult
    started: float
    finished: float


@dataclass(frozen=True)
class _Ahead:
    """A request :meth:`MerkleWorkerPool.merkleize_ahead` sent, and to which worker."""

    worker: WorkerProcess
    parent_root: bytes | None  # None: chained on the root of the request before it
    deltas: tuple[AccountDelta, ...]
    sent: float


class Merkleizer(Protocol):
    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult: ...

    def merkleize_ahead(self, store: Store, parent_root: bytes, upcoming: Sequence[BlockAccessList]) -> None:
        """Start merkleizing the next blocks (``upcoming``, the first on ``parent_root``), and return at once.

        For blocks imported back to back (a replay, a sync), called once this
        block's root is known: the next block's parent root is that root, and
        the worker has its new nodes cached, so it need not wait until they
        are stored. The next block claims the result with :meth:`merkleized_ahead`.
        """
        ...

    async def merkleized_ahead(
        self, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkledAhead | None:
        """The result of the merkleization started ahead for exactly this parent root and these deltas.

        None if none was started, it was for other ones, or it failed: the caller
        then calls :meth:`merkleize`. A request still running is waited for either way
        (a worker answers one request at a time).
        """
        ...

    def catch_up(self, store: Store) -> None:
        """Tell the merkleizer it is idle (a block stored in ``store``, the head moved).

        Ahead of the next block, without waiting. What a worker does with it is
        ``merkle.worker_process.MerkleWorker.catch_up``.
        """
        ...


class InlineMerkleizer:
    """The merkleizer in a thread of this process (in-memory stores; no real overlap)."""

    async def merkleize(
        self, store: Store, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkleResult:
        return await trio.to_thread.run_sync(MerkleSession(store, parent_root, deltas).run)

    def merkleize_ahead(self, store: Store, parent_root: bytes, upcoming: Sequence[BlockAccessList]) -> None:
        """Nothing: in this process the next block's merkleization would only slow this block's end."""

    async def merkleized_ahead(
        self, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkledAhead | None:
        return None

    def catch_up(self, store: Store) -> None:
        """Nothing to do: it reads the store itself."""


def default_worker_count() -> int:
    """One core executes; the merkleizer gets the others (at least one worker)."""
    return max(1, (os.cpu_count() or 2) - 1)


class MerkleWorkerPool:
    """Merkleizer worker processes over a RocksDB store, started on first use."""

    def __init__(self, size: int | None = None, *, cores: Cores | None = None, ahead: int = 1) -> None:
        """``cores``: where the workers run (``pipeline.cores``); None: wherever the node's process may.

        ``ahead``: how many blocks ahead :meth:`merkleize_ahead` keeps the worker; with more than one
        it runs at :data:`AHEAD_NICENESS` (it has the slack), else at :data:`NICENESS`.
        """
        self.size = size or default_worker_count()
        self.cores = cores
        self._workers: list[WorkerProcess | None] = [None] * self.size
        self.ahead = max(1, ahead)
        self.niceness = AHEAD_NICENESS if self.ahead > 1 else NICENESS
        # The requests sent ahead, oldest first, and the last one's result read (the next is chained on it).
        self._aheads: deque[_Ahead] = deque()
        self._previous: MerkledAhead | None = None

    def _worker(self, index: int) -> WorkerProcess:
        worker = self._workers[index]
        if worker is None or not worker.alive():
            worker = self._workers[index] = self._spawn(index)
        return worker

    def _spawn(self, index: int) -> WorkerProcess:
        return WorkerProcess(f"balrex-merkle-{index}", MerkleWorker, niceness=self.niceness, cores=self.cores)

    def launch(self) -> None:
        """Start every worker process without waiting for it (its imports overlap the caller's work)."""
        for index in range(self.size):
            self._worker(index)

    def start(self, store: Store | None = None) -> None:
        """Start every worker (unless launched) and wait until each has imported its code and answers.

        Else the first block would pay for starting Python in every worker. With ``store``,
        each also opens its handle on it first (``WorkerProcess.open_store``), which the first
        block paid for too.
        """
        for index in range(self.size):
            worker = self._worker(index)
            if isinstance(store, RocksStore):
                worker.open_store(str(store.path))
        for index in range(self.size):
            self._worker(index).wait_ready()

    def catch_up(self, store: Store) -> None:
        """Send every started, idle worker the hint about ``store`` (``WorkerProcess.catch_up``)."""
        if not isinstance(store, RocksStore):
            return
        for worker in self._workers:
            if worker is not None:
                worker.catch_up(str(store.path))

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
        await self._settle_aheads()
        try:
            return await self._merkleize(str(store.path), parent_root, deltas)
        except BaseException:
            self._replace_dead()
            raise

    def merkleize_ahead(self, store: Store, parent_root: bytes, upcoming: Sequence[BlockAccessList]) -> None:
        """Keep the lead worker :attr:`ahead` blocks ahead (``Merkleizer.merkleize_ahead``).

        The requests still out were sent for the first of ``upcoming``; the
        rest, up to :attr:`ahead`, are sent now, each chained on the root the one
        before it will produce (``merkle.worker_process.RunRequest``).
        With one worker only: spread over several, a block is three rounds of
        requests, which need the node's event loop between them. And only to a
        live one: starting a worker (a second of CPU) is the next block's own
        request's to do, not a hint's in the middle of this block.
        """
        if self.size != 1 or not isinstance(store, RocksStore):
            return
        lead = self._workers[0]
        if lead is None or not lead.alive() or (lead.busy and not self._aheads):
            return
        for bal in upcoming[len(self._aheads) : self.ahead]:
            made_on = None if self._aheads else parent_root  # None: chained on the request before
            deltas = synthesize_deltas(bal)  # kept on the BAL: its block's import reuses them
            try:
                lead.send(RunRequest(str(store.path), made_on, deltas))
            except Exception:  # a dead worker: the next block's request starts a fresh one
                self._aheads.clear()
                return
            self._aheads.append(_Ahead(lead, made_on, deltas, time.perf_counter()))

    async def merkleized_ahead(
        self, parent_root: bytes, deltas: Sequence[AccountDelta]
    ) -> MerkledAhead | None:
        """``Merkleizer.merkleized_ahead``: a request ahead that failed is no verdict; the block's own is.

        The oldest request out is this block's if it was made for its parent root and deltas;
        if it was not (the block before was not the one expected), every request out is
        dropped: they were chained on the wrong block.
        """
        if not self._aheads:
            return None
        ahead = self._aheads.popleft()
        previous, self._previous = self._previous, None
        result = await self._settle(ahead)
        if ahead.parent_root is not None:
            made_on, started = ahead.parent_root, ahead.sent
        elif previous is not None:
            # Chained: made on the root of the request before it, and started once that one was done.
            made_on, started = previous.result.state_root, max(ahead.sent, previous.finished)
        else:
            made_on, started = None, ahead.sent  # chained on a request that failed
        if result is None or made_on != parent_root or ahead.deltas != tuple(deltas):
            await self._settle_aheads()
            return None
        self._previous = MerkledAhead(result, started, ahead.worker.last_finished)
        return self._previous

    async def _settle(self, ahead: _Ahead) -> MerkleResult | None:
        """Read the reply to one request sent ahead; None if it failed."""
        try:
            return await _answer(ahead.worker, MerkleResult)
        except Exception:
            return None  # a dead worker is replaced by the next request (``_worker``)

    async def _settle_aheads(self) -> None:
        """Read (and drop) the replies to every request still out ahead."""
        while self._aheads:
            await self._settle(self._aheads.popleft())
        self._previous = None

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
        if self._aheads:
            self._aheads[0].worker.kill()  # it may be blocked sending a reply nobody will read
            self._aheads.clear()
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
