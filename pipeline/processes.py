"""Worker processes kept alive across blocks: the loop they run, and the pipeline's handle on one.

Both kinds of worker (the merkleizer's, ``merkle.worker_process``, and the
later-part executor's, ``client.later_part_worker``) are a *handler*: a class
made once in the child, whose ``handle(request)`` answers one request (a
frozen dataclass of the handler's own kinds, matched by type) and whose
``close()`` releases what it holds. :func:`serve` is the child's whole life:
requests come over a pipe and are answered in order, one reply each:
:class:`Answer` with the handler's value, or :class:`Failure` with the
exception the handler raised, which the parent raises again with its type
(a missing parent node, a rejected block) so the pipeline can tell the block's
fault from ours. :class:`Ping` answers :class:`Ready` (sent after start-up, so
the first block does not pay for starting Python); :class:`Stop` or a closed
pipe ends the loop.

:class:`WorkerProcess` is the parent's side. A worker that is waiting on a
request when its task is cancelled is killed at once: it is never left busy on
a dead block, and its pool starts a fresh one in its place.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Protocol

import trio

from .cores import Cores, pin
from .interpreter import freeze_live_objects, set_up_for_blocks


class Handler(Protocol):
    def handle(self, request: object) -> object: ...

    def open(self, db_path: str) -> None:
        """The node has opened its store at ``db_path``: open a handle on it now, while idle.

        Sent at start-up, before the ping the node waits on: else the first
        request would pay for opening the handle.
        """
        ...

    def catch_up(self, db_path: str) -> None:
        """The node's store at ``db_path`` changed and the worker is idle: prepare for the next request.

        A follower of the store whose keys change in place replays the writes here;
        one that reads content-addressed keys may leave that to the request. A worker
        whose handle is on another store (or none) leaves it: the hint opens nothing,
        since a store that only a hint names may be gone by the time the worker reads
        it (the EF runner deletes each test's).
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Ping:
    """Answer :class:`Ready` once the worker's code is imported."""


@dataclass(frozen=True)
class OpenStore:
    """Open a handle on the node's store now, while idle; no reply (see :meth:`WorkerProcess.open_store`)."""

    db_path: str


@dataclass(frozen=True)
class CatchUp:
    """Catch up with the node's store now, while idle; no reply (see :meth:`WorkerProcess.catch_up`)."""

    db_path: str


@dataclass(frozen=True)
class Stop:
    """End the worker's loop."""


@dataclass(frozen=True)
class Ready:
    """The worker has started and answers."""


@dataclass(frozen=True)
class Answer:
    """The handler's reply to one request, and when the handler returned it.

    ``finished`` is the worker's ``time.perf_counter()``: on Linux the system-wide
    monotonic clock, so the node can compare it with its own readings. It is when
    the work ended, not when the node got round to reading the reply, which can
    be milliseconds later while the node's executor thread holds the interpreter lock.
    """

    value: object
    finished: float


@dataclass(frozen=True)
class Failure:
    """The handler raised ``error`` (the exception itself: it keeps its type across the pipe)."""

    error: Exception


class WorkerFailed(RuntimeError):
    """A worker process died, or failed in a way that is not the request's fault."""


def _crossable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling as itself, else a WorkerFailed that names it."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        copy = None
    if type(copy) is type(exc) and str(copy) == str(exc):
        return exc
    return WorkerFailed(f"{type(exc).__name__}: {exc}")


def serve(
    conn: Connection,
    handler_class: type[Handler],
    niceness: int,
    parent_end: Connection | None = None,
    handler_args: tuple[object, ...] = (),
    cores: Cores | None = None,
) -> None:
    """The worker's main loop (the process target).

    ``parent_end``: a forked worker's copy of the node's end of its pipe, closed at
    once: else the node's death would never reach the worker as end of file.
    ``handler_args``: what the handler is made with (objects shared with the node,
    such as a lock, can only reach the worker this way, as it starts).
    ``cores``: the cores the worker runs on (``pipeline.cores``), None to keep the node's.

    Ctrl+C in a terminal interrupts every process of the foreground group, the
    workers too: each printed a KeyboardInterrupt traceback while the node
    shut down in order. A worker ignores it: the node stops it (:class:`Stop`),
    and if the node dies instead, the closed pipe ends the loop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_end is not None:
        parent_end.close()
    pin(cores)
    os.nice(niceness)
    set_up_for_blocks()
    handler = handler_class(*handler_args)
    # What outlives start-up and each request is the worker's long-lived state:
    # frozen out of the collector's walks (``pipeline.interpreter``), after the reply
    # is sent, while the node's process finishes the block.
    freeze_live_objects()
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return  # the pipeline is gone
            if isinstance(request, Stop):
                return
            if isinstance(request, OpenStore | CatchUp):
                try:
                    if isinstance(request, OpenStore):
                        handler.open(request.db_path)
                    else:
                        handler.catch_up(request.db_path)
                except Exception:  # a hint only: the next request opens or catches up itself, and fails there
                    pass
                continue
            reply: Ready | Answer | Failure
            if isinstance(request, Ping):
                reply = Ready()
            else:
                try:
                    value = handler.handle(request)
                    reply = Answer(value, time.perf_counter())
                except Exception as exc:
                    reply = Failure(_crossable(exc))
            conn.send(reply)
            freeze_live_objects()
    finally:
        handler.close()


def can_fork() -> bool:
    """Whether this process has a single thread (OS threads, not only Python's): then fork, else spawn.

    A spawned worker starts a fresh interpreter and imports py-evm: one to two
    seconds of CPU before it answers, which dominated a node's start-up. A
    forked one has the parent's imports at once. Forking is only safe when no
    other thread can hold a lock the child would inherit (RocksDB's background
    threads, an executor's threads, a running event loop), hence the count.
    The node launches its pools first thing, single-threaded; anything started
    later, or beside an open store, is spawned as before.
    """
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # not Linux: never guess
        return False


WorkerContext = ForkContext | SpawnContext


def worker_context() -> WorkerContext:
    """The multiprocessing context a worker started now uses: fork when :func:`can_fork`, else spawn.

    Objects shared with a worker at its start (a lock) must come from the same context.
    """
    if can_fork():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class WorkerProcess:
    """One worker process running ``handler_class`` (forked when that is safe, else spawned)."""

    def __init__(
        self,
        name: str,
        handler_class: type[Handler],
        *,
        niceness: int = 0,
        handler_args: tuple[object, ...] = (),
        context: WorkerContext | None = None,
        cores: Cores | None = None,
    ) -> None:
        """``niceness``: added to the worker's scheduling niceness (a lower priority for work with slack).
        ``cores``: the cores it runs on (``pipeline.cores``); None: the node's process's.

        ``handler_args``: passed to ``handler_class`` in the worker (see :func:`serve`), made
        in ``context`` (default: :func:`worker_context`) if they hold a lock.
        """
        context = context or worker_context()
        forked = context.get_start_method() == "fork"
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=serve,
            args=(child, handler_class, niceness, self.conn if forked else None, handler_args, cores),
            name=name,
            daemon=True,
        )
        self.process.start()
        child.close()
        # Requests sent and not yet answered (replies come back in order, one each).
        self.pending = 0
        # When the handler finished the last request it answered (``Answer.finished``).
        self.last_finished = 0.0

    @property
    def name(self) -> str:
        return self.process.name

    @property
    def busy(self) -> bool:
        """Whether a request sent to the worker has not been answered yet."""
        return self.pending > 0

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    def wait_ready(self) -> None:
        """Block until the worker has imported its code and answers."""
        self.conn.send(Ping())
        if not isinstance(self.conn.recv(), Ready):
            raise WorkerFailed(f"{self.name}: did not answer its first ping")

    def open_store(self, db_path: str) -> None:
        """Tell an idle worker to open its handle on the node's store at ``db_path``, without waiting.

        Sent at start-up: a ping sent next waits behind it in the pipe, so a worker
        that has answered the ping has opened its handle (or failed to, and the first
        request opens it).
        """
        self._hint(OpenStore(db_path))

    def catch_up(self, db_path: str) -> None:
        """Tell an idle worker that the node's store at ``db_path`` changed, without waiting for it.

        Sent after a block is stored and after fork choice moves the flat state:
        the worker does what its handler's ``catch_up`` says (the later-part worker
        replays those writes) while the node's process goes on, instead of at the
        start of the next block's request, where it would delay the block.
        The message has no reply; a request sent next waits behind it in the pipe.
        """
        self._hint(CatchUp(db_path))

    def _hint(self, message: OpenStore | CatchUp) -> None:
        if self.busy or not self.alive():
            return
        try:
            self.conn.send(message)
        except OSError:
            pass  # a dead worker: the next request finds it dead and the pool replaces it

    async def request(self, message: object) -> object:
        """Send one request and wait for its reply; raise what the handler raised, with its type."""
        self.send(message)
        return await self.reply()

    def send(self, message: object) -> None:
        """Send one request without waiting: the worker is busy until :meth:`reply` has read its answer.

        More requests may be sent meanwhile; the worker answers them in order, one
        :meth:`reply` each, so whoever sends them reads the replies in that order.
        """
        self.pending += 1
        try:
            self.conn.send(message)
        except BaseException:
            self.kill()  # the process died, or the pipe broke mid-message
            raise

    async def reply(self) -> object:
        """Wait for the reply to the oldest request not yet answered; raise what the handler raised."""
        try:
            await trio.lowlevel.wait_readable(self.conn)
            reply = self.conn.recv()
        except BaseException:
            # Cancelled mid-job, or the process died: never leave it working on a dead block.
            self.kill()
            raise
        self.pending -= 1
        if isinstance(reply, Answer):
            self.last_finished = reply.finished
            return reply.value
        if isinstance(reply, Failure):
            raise reply.error
        raise WorkerFailed(f"{self.name}: unexpected reply {type(reply).__name__}")

    def kill(self) -> None:
        """End the process now; what it had not answered is lost."""
        self.pending = 0
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Ask the worker to exit; kill it if it does not within two seconds."""
        if self.alive():
            try:
                self.conn.send(Stop())
            except OSError:
                pass
            self.process.join(timeout=2)
        self.kill()
