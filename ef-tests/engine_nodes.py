"""The ``balrex node`` processes the ``engine`` pass talks to, and their reuse between tests.

Why a node is shared: starting one (Python and py-evm imported in the node and
in each of its worker processes) costs seconds, far more than most fixture
tests' blocks, and about half the tests of an archive share their genesis
(same ``pre``, genesis header, network and config) with another test of the
same file. A test's chain is a branch from that genesis, so one node can serve
them all: the test starts with a ``forkchoiceUpdated`` back to the genesis
(the node moves its flat state there, as in any reorg) and its own blocks then
build its branch. A node is keyed by the whole genesis it was started with,
so a test never meets a node of another chain, and a test that fails (for
whatever reason) takes its node down with it: the next test starts a fresh
one rather than inherit what the failure left.
"""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from node_zygote import Zygote
from outcomes import Outcomes

from client.tools.payloads import SendError, json_rpc, post_request
from engine_api.auth import load_or_create_secret, make_token

BALREX = Path(sys.executable).with_name("balrex")
# The free port is chosen before the node binds it: another process may take it meanwhile.
PORT_ATTEMPTS = 3
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


class EnginePassError(AssertionError):
    """The node answered other than the fixture expects (an AssertionError, so pytest reports it as such)."""


def genesis_key(genesis: dict[str, Any]) -> str:
    """What decides whether two tests can share a node: a digest of the whole genesis a node starts with."""
    return hashlib.sha256(json.dumps(genesis, sort_keys=True).encode()).hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NodeHandle(Protocol):
    """What the pass needs of a node's process: a ``subprocess.Popen`` or a zygote's ``ForkedNode``."""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def send_signal(self, signum: int) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass
class NodeProcess:
    """A ``balrex node`` subprocess answering on ``url`` with ``secret``."""

    process: NodeHandle
    url: str
    secret: bytes
    log_path: Path
    start_seconds: float

    def call(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The whole JSON-RPC answer (``result`` or ``error``)."""
        return post_request(self.url, json_rpc(1, method, params), make_token(self.secret))

    def result(self, method: str, params: list[Any]) -> Any:
        answer = self.call(method, params)
        if "error" in answer:
            raise EnginePassError(f"{method}: JSON-RPC error {answer['error']}")
        return answer["result"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_node(genesis: dict[str, Any], zygote: Zygote | None = None) -> Iterator[NodeProcess]:
    """Start a node on a fresh data dir with ``genesis``; stop it (SIGTERM, then SIGKILL) at the end.

    With a ``zygote`` the node is forked from it (``node_zygote``), else it is
    a ``balrex node`` subprocess of this process.
    """
    with tempfile.TemporaryDirectory(prefix="balrex-engine-pass-") as tmp:
        root = Path(tmp)
        genesis_path = root / "genesis.json"
        genesis_path.write_text(json.dumps(genesis))
        secret, _ = load_or_create_secret(root / "jwt.hex")
        log_path = root / "node.log"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = _free_port()
            command = [
                str(BALREX), "node", "--datadir", str(root / "data"), "--authrpc.port", str(port),
                "--authrpc.jwtsecret", str(root / "jwt.hex"), "--genesis", str(genesis_path),
            ]  # fmt: skip
            started = time.monotonic()
            process: NodeHandle
            if zygote is not None:
                process = zygote.fork_node(command[1:], log_path)
            else:
                with log_path.open("ab") as log:
                    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            node = NodeProcess(process, f"http://127.0.0.1:{port}", secret, log_path, 0.0)
            try:
                _wait_until_answering(node, started)
            except PortTaken:
                _stop(process)
                if attempt == PORT_ATTEMPTS:
                    raise
                continue
            except BaseException:
                _stop(process)
                raise
            break
        try:
            node.start_seconds = time.monotonic() - started
            yield node
        finally:
            _stop(process)


class PortTaken(EnginePassError):
    """Another process bound the free port between our choosing it and the node binding it."""


def _wait_until_answering(node: NodeProcess, started: float) -> None:
    while time.monotonic() - started < START_TIMEOUT_S:
        if not node.alive():
            tail = node.log_tail()
            error = PortTaken if "Address already in use" in tail else EnginePassError
            raise error(f"node exited with {node.process.returncode}:\n{tail}")
        try:
            node.call("eth_chainId", [])
            return
        except SendError:
            time.sleep(0.05)
    raise EnginePassError(f"node did not answer within {START_TIMEOUT_S:.0f} s:\n{node.log_tail()}")


def _stop(process: NodeHandle) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SharedNode:
    """At most one live node in this process, kept for the next test with the same genesis."""

    def __init__(self, zygote: Zygote | None = None) -> None:
        """``zygote``: where nodes are forked from (``node_zygote``); None: ``balrex node`` processes."""
        self._key: str | None = None
        self._node: NodeProcess | None = None
        self._stack = ExitStack()
        self.zygote = zygote

    def node_for(self, genesis: dict[str, Any], outcomes: Outcomes) -> NodeProcess:
        """The live node started with ``genesis``: the kept one, or a new one in its place (counted)."""
        key = genesis_key(genesis)
        if self._node is not None and self._key == key and self._node.alive():
            return self._node
        self.close()
        node = self._stack.enter_context(running_node(genesis, self.zygote))
        self._key, self._node = key, node
        outcomes.node_starts += 1
        outcomes.node_start_seconds += node.start_seconds
        return node

    def close(self) -> None:
        """Stop the kept node, if any (after a failed test, and at the end of the session)."""
        self._key, self._node = None, None
        self._stack.close()

    def shut_down(self) -> None:
        """Stop the kept node and the zygote (the end of the session)."""
        self.close()
        if self.zygote is not None:
            self.zygote.close()
