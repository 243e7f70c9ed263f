"""A piece of the dossier's analysis computed in a forked process while this one computes another.

The chain dossier analyzes two views of the same blocks (execution and BAL),
each a second or so of pure Python: on two cores they can run at once. A
forked child has every object of this process already, so only its result
crosses a pipe (pickled). Where forking is unsafe (another thread runs:
:func:`pipeline.processes.can_fork`), the work runs here, when its result is
asked for.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

from pipeline.processes import can_fork

T = TypeVar("T")


class ChildLost(RuntimeError):
    """The forked process ended without handing back its result."""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _run(conn: Connection, work: Callable[[], object]) -> None:
    try:
        outcome = work()
    except BaseException as exc:  # handed to the parent, which raises it
        conn.send(_Failed(exc))
    else:
        conn.send(outcome)
    finally:
        conn.close()


class Beside(Generic[T]):
    """``work()`` started in a forked child now; :meth:`result` waits for it (or runs it, unforked)."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._process: BaseProcess | None = None
        if can_fork():
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_run, args=(sender, work), name="balrex-dossier", daemon=True
            )
            self._process.start()
            sender.close()

    def result(self) -> T:
        if self._process is None:
            return self._work()
        lost = False
        try:
            outcome = self._receiver.recv()
        except EOFError:  # the pipe closed without a result: the child died
            lost = True
        finally:
            self._receiver.close()
            self._process.join()
        if lost:
            raise ChildLost(
                f"the dossier's forked process ended (exit code {self._process.exitcode}) without its result"
            )
        if isinstance(outcome, _Failed):
            raise outcome.error
        return outcome  # type: ignore[no-any-return]  # what work() returned, unpickled
