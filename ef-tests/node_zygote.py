"""A process that imports balrex once and forks each ``balrex node`` the ``engine`` pass starts.

Why: a node process spends about as much CPU importing Python modules (typer,
py-evm, the Engine API) as the rest of its start-up together, and the pass
starts hundreds of nodes. The zygote imports what ``balrex node`` imports,
once, while it has one thread and no event loop, then for each request forks
a child that redirects its output to the node's log and runs the same entry
point (``client.cli.app``) with the node's argv. Each child is a real node
process: its own data dir, port, trio loop and worker processes (forked by
the node itself while it has one thread, as every node does:
``pipeline.processes``); only the import is shared.

Protocol (text lines on the zygote's stdin and stdout): a request is a JSON
object ``{"argv": [...], "log": path}``; the answer is the child's pid.
End of input stops the zygote (its children are not waited for; they belong
to the harness, which stops each by its pid).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


class ZygoteError(RuntimeError):
    """The zygote cannot fork nodes (it died, or it answered something other than a pid)."""


@dataclass
class ForkedNode:
    """A node process forked by the zygote: not this process's child, so it is watched by its pid."""

    pid: int

    def poll(self) -> int | None:
        """None while the process exists, else -1 (its exit status went to the zygote, which reaps it)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1
        return None

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return -1


class Zygote:
    """The harness's handle on one zygote process (started on first use)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None

    def fork_node(self, argv: list[str], log_path: Path) -> ForkedNode:
        """Fork a child of the zygote that runs ``balrex <argv>`` with its output in ``log_path``."""
        process = self._live()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps({"argv": argv, "log": str(log_path)}) + "\n")
            process.stdin.flush()
            answer = process.stdout.readline()
        except OSError as exc:
            raise ZygoteError(f"the zygote is gone: {exc}") from None
        if not answer.strip().isdigit():
            self.close()
            raise ZygoteError(f"the zygote answered {answer!r} instead of a pid")
        return ForkedNode(int(answer))

    def _live(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self._process

    def close(self) -> None:
        """End the zygote (its input closes); nodes it forked are not touched."""
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None


def _run_child(argv: list[str], log_path: str) -> None:
    """In the forked child: output to the log, default signal handling, then the node's entry point."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the node waits for its own worker processes
    os.setsid()  # a terminal's Ctrl-C or the zygote's end does not reach the node as a group
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(devnull)
    from client.cli import app

    code = 0
    try:
        sys.argv = ["balrex", *argv]
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _serve() -> None:
    """The zygote's loop: import once, then one fork per request line."""
    import client.cli
    import engine_api.node  # noqa: F401  (what ``balrex node`` imports when it runs)

    del client.cli
    # Children are reaped by the kernel (no zombies): the harness sees a stopped node vanish.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        if threading.active_count() != 1:
            print("error: the zygote has threads; forking it is unsafe", flush=True)
            return
        pid = os.fork()
        if pid == 0:
            _run_child(request["argv"], request["log"])
        print(pid, flush=True)


if __name__ == "__main__":
    _serve()
