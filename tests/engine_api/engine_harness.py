"""Helpers for the engine_api tests: a ``balrex node`` subprocess, a JWT client, EF blocks as payloads.

The payload conversion is ``client.tools.payloads`` (``balrex payloads``): it
works on the raw RLP lists of the block, not on the node's code, so a mistake
in the node's payload -> block code shows up as a blockHash mismatch rather
than being mirrored.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import rlp
from engine_pass import fixture_genesis
from fixture_files import first_test

from client.chain_config import Fork
from client.tools.payloads import EnginePayload, build_payload
from engine_api.auth import make_token, read_secret

REPO = Path(__file__).resolve().parents[2]
BALREX = REPO / ".venv" / "bin" / "balrex"


def load_fixture(archive: str, relative: str) -> dict[str, Any]:
    """The first test of one EF fixture file of the release (``fixture_files.first_test``)."""
    return first_test(archive, relative)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def genesis_from_fixture(test: dict[str, Any]) -> dict[str, Any]:
    """A geth-style genesis whose block is the fixture's genesis block (the EF runner's engine pass's)."""
    return fixture_genesis(test)


# The header's field count tells its fork family: 23 fields from Amsterdam, 21 from Prague.
_AMSTERDAM_HEADER_FIELDS, _PRAGUE_HEADER_FIELDS = 23, 21


def Payload(block_rlp_hex: str, bal_hex: str | None = None) -> EnginePayload:
    """One fixture block as newPayload params (``client.tools.payloads``, the tool's one implementation).

    The tests give no chain config, so the fork family comes from the header's
    shape: Amsterdam blocks (23 fields) need ``bal_hex`` (newPayloadV5), Prague
    to BPO2 blocks go as V4 with no execution requests, Cancun blocks as V3.
    """
    block_rlp = bytes.fromhex(block_rlp_hex[2:])
    fields = len(rlp.decode(block_rlp)[0])
    fork = Fork.CANCUN
    if fields >= _AMSTERDAM_HEADER_FIELDS:
        fork = Fork.AMSTERDAM
    elif fields >= _PRAGUE_HEADER_FIELDS:
        fork = Fork.PRAGUE
    bal_rlp = None if bal_hex is None else bytes.fromhex(bal_hex[2:])
    return build_payload(block_rlp, fork, bal_rlp)


class RpcFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error['code']}: {error['message']}")
        self.code = error["code"]
        self.message = error["message"]


class Node:
    """A ``balrex node`` subprocess on a free port, with its own data dir and JWT secret."""

    def __init__(
        self, datadir: Path, genesis: dict[str, Any] | None, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.datadir = datadir
        self.genesis_path: Path | None = None
        if genesis is not None:
            datadir.parent.mkdir(parents=True, exist_ok=True)
            self.genesis_path = datadir.parent / f"{datadir.name}-genesis.json"
            self.genesis_path.write_text(json.dumps(genesis))
        self.extra_args = extra_args
        self.secret_path = datadir / "jwt.hex"
        if "--authrpc.jwtsecret" in extra_args:
            self.secret_path = Path(extra_args[extra_args.index("--authrpc.jwtsecret") + 1])
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = datadir.parent / f"{datadir.name}.log"
        self.client = httpx.Client(timeout=60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [str(BALREX), "node", "--datadir", str(self.datadir), "--authrpc.port", str(self.port)]
        if self.genesis_path is not None:
            cmd += ["--genesis", str(self.genesis_path)]
        return cmd + list(self.extra_args)

    def start(self, timeout: float = 120.0) -> None:
        """Start the node and wait for its port (generously: worker processes start slowly when busy)."""
        self.port = free_port()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.rpc("eth_chainId")
                return
            except (httpx.TransportError, FileNotFoundError, ValueError):
                time.sleep(0.1)
        self.process.kill()  # a node that never answered must not outlive the test
        self.process.wait()
        raise RuntimeError(f"node did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def secret(self) -> bytes:
        return read_secret(self.secret_path)

    def headers(self, secret: bytes | None = None, iat: float | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + make_token(secret or self.secret, iat)}

    def post(
        self, body: Any = None, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        hdrs = self.headers() if headers is None else headers
        if content is None:
            content = json.dumps(body).encode()
        return self.client.post(
            self.url, content=content, headers={"content-type": "application/json", **hdrs}
        )

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        """The whole JSON-RPC response object."""
        response = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        assert response.status_code == 200, response.text
        return response.json()

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.call(method, *params)
        if "error" in answer:
            raise RpcFailure(answer["error"])
        return answer["result"]

    def head(self) -> dict[str, Any]:
        return self.rpc("eth_getBlockByNumber", "latest", False)

    def forkchoice(self, head: str, safe: str | None = None, finalized: str | None = None) -> dict[str, Any]:
        zero = "0x" + "00" * 32
        state = {
            "headBlockHash": head,
            "safeBlockHash": safe or zero,
            "finalizedBlockHash": finalized or zero,
        }
        return self.rpc("engine_forkchoiceUpdatedV3", state, None)

    def children(self) -> dict[int, str]:
        """The node's live worker processes (merkleizer, later part): pid -> /proc state letter.

        Workers are the node's children, forked (the node's own command line) or
        started by multiprocessing's ``spawn_main``; a spawn's resource tracker, another
        child, is not a worker and ends with the node.
        """
        assert self.process is not None
        found = {}
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat_file.read_text().rsplit(")", 1)[1].split()
                if b"resource_tracker" in (stat_file.parent / "cmdline").read_bytes():
                    continue
            except OSError:
                continue  # the process ended while we looked
            state, parent = fields[0], int(fields[1])
            if parent == self.process.pid and state != "Z":
                found[int(stat_file.parent.name)] = state
        return found

    def sigkill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int:
        """SIGINT (Ctrl-C) and wait; the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(15)

    def kill(self) -> None:
        self.sigkill()
        self.client.close()


# Header field positions in a block's RLP.
PARENT_HASH, EXTRA_DATA, BAL_HASH = 0, 12, 21


def edit_header(block_rlp_hex: str, edits: dict[int, bytes]) -> str:
    """The block with some header fields replaced (so a new hash), as 0x RLP hex."""
    items = rlp.decode(bytes.fromhex(block_rlp_hex[2:]))
    for index, value in edits.items():
        items[0][index] = value
    return "0x" + rlp.encode(items).hex()
