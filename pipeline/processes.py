"""Worker processes kept alive across blocks: the loop they run, and the pipeline's handle on one.

Both kinds of worker (the merkleizer's, ``merkle.worker_process``, and the
later-part executor's, ``client.part_worker``) are a *handler*: a class made
once in the child, whose ``handle(request)`` answers one request tuple and whose
``close()`` releases what it holds. :func:`serve` is the child's whole life:
requests come over a pipe, are answered in order, one reply each:
``("ok", value)``, or ``("error", exception class name, message)`` for an
exception the handler raised (reported to the pipeline, which fails the block
or falls back, never the node). ``("ping",)`` answers ``"ready"`` (sent after
start-up, so the first block does not pay for starting Python); ``("stop",)``
or a closed pipe ends the loop.

:class:`WorkerProcess` is the parent's side. A worker that is waiting on a
request when its task is cancelled is killed at once: it is never left busy on
a dead block, and its pool starts a fresh one in its place.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from typing import Any, Protocol

import trio

from client.gc_tuning import freeze_live_objects


class Handler(Protocol):
    def handle(self, request: tuple[Any, ...]) -> Any: ...

    def close(self) -> None: ...


class WorkerFailed(RuntimeError):
    """A worker process died, or its handler raised ``kind`` (an exception class name)."""

    def __init__(self, worker: str, kind: str, message: str) -> None:
        super().__init__(f"{worker}: {kind}: {message}")
        self.kind = kind
        self.message = message


def serve(conn: Connection, handler_class: type[Handler], niceness: int) -> None:
    """The worker's main loop (the process target)."""
    os.nice(niceness)
    handler = handler_class()
    # What outlives start-up and each request is the worker's long-lived state:
    # frozen out of the collector's walks (``client.gc_tuning``), after the reply
    # is sent, while the node's process finishes the block.
    freeze_live_objects()
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return  # the pipeline is gone
            if request[0] == "stop":
                return
            try:
                reply: tuple[Any, ...] = ("ok", "ready" if request[0] == "ping" else handler.handle(request))
            except Exception as exc:
                reply = ("error", type(exc).__name__, str(exc))
            conn.send(reply)
            freeze_live_objects()
    finally:
        handler.close()


class WorkerProcess:
    """One worker process running ``handler_class`` (spawned: no state inherited from the node)."""

    def __init__(self, name: str, handler_class: type[Handler], *, niceness: int = 0) -> None:
        """``niceness``: added to the worker's scheduling niceness (a lower priority for work with slack)."""
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, handler_class, niceness), name=name, daemon=True
        )
        self.process.start()
        child.close()
        self.busy = False

    @property
    def name(self) -> str:
        return self.process.name

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    def wait_ready(self) -> None:
        """Block until the worker has imported its code and answers."""
        self.conn.send(("ping",))
        if self.conn.recv() != ("ok", "ready"):
            raise WorkerFailed(self.name, "start", "did not answer its first ping")

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
        raise WorkerFailed(self.name, kind, message_text)

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
