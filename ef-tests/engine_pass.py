"""The ``engine`` pass: every fixture block sent to a real ``balrex node`` over HTTP.

Why it exists: the other passes call the pipeline in-process; this one goes
through everything a consensus client touches (JWT, JSON-RPC, the payload
models, payload -> block, the version-per-fork rules, the memory of invalid
payloads, fork choice), so a fixture that passes ``bal`` but fails here points
at the Engine API layer.

For each test a node is started on a fresh data dir with the test's genesis
(a geth-style genesis from ``pre``, the genesis header and the network's fork
schedule) on a free loopback port, and stopped at the end. Start-up (worker
processes importing py-evm) takes several seconds and dominates; a node cannot
be shared between tests since each has its own genesis, and tests of one genesis
would need a reorg across branches, which the node does not do yet.

Two fixture formats are read:

* ``blockchain_test``: each block becomes the ``engine_newPayloadV*`` of its
  fork (``client.tools.payloads``; V5 with its BAL from Amsterdam on). A valid
  block must be ``VALID`` with ``latestValidHash`` = its hash, then a
  ``forkchoiceUpdated`` makes it the head (``VALID``). A block the fixture
  expects invalid must be ``INVALID`` with a ``validationError`` (or refused
  with a JSON-RPC error when it cannot even be a payload), and is not made
  the head.
* ``blockchain_test_engine``: its ``engineNewPayloads`` (``params``,
  ``newPayloadVersion``, ``forkchoiceUpdatedVersion``, and ``validationError``
  or ``errorCode`` when the payload must fail) are sent as they are; the version
  must also be the one the fork table gives.

Either way the node's head at the end must be the fixture's ``lastblockhash``.
``blockchain_test`` files do not carry a block's execution requests (EIP-7685),
only their hash: a valid block that commits to non-empty requests cannot be
sent, and the test is skipped with that reason.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from exception_map import check_rejection
from outcomes import Outcomes

from client.chain_config import config_from_fixture, fork_schedule
from client.engine_versions import new_payload_version
from client.tools.payloads import (
    PayloadSourceError,
    SendError,
    fixture_block_payload,
    forkchoice_call,
    json_rpc,
    post_request,
)
from engine_api.auth import load_or_create_secret, make_token

BALREX = Path(sys.executable).with_name("balrex")
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


class EnginePassError(AssertionError):
    """The node answered other than the fixture expects (an AssertionError, so pytest reports it as such)."""


def fixture_genesis(test: dict[str, Any]) -> dict[str, Any]:
    """A geth-style genesis whose block is the fixture's genesis block, with the network's fork schedule."""
    header = test["genesisBlockHeader"]
    config: dict[str, Any] = {"chainId": int(test["config"].get("chainid", "0x1"), 16)}
    for fork, activation in fork_schedule(test["network"]):
        config[f"{fork}Time"] = activation
    config["blobSchedule"] = {
        fork.lower(): params for fork, params in test["config"].get("blobSchedule", {}).items()
    }
    optional = ("excessBlobGas", "blobGasUsed", "slotNumber")
    return {
        "config": config,
        "nonce": header["nonce"],
        "timestamp": header["timestamp"],
        "extraData": header["extraData"],
        "gasLimit": header["gasLimit"],
        "difficulty": header["difficulty"],
        "mixHash": header["mixHash"],
        "coinbase": header["coinbase"],
        "baseFeePerGas": header["baseFeePerGas"],
        **{key: header[key] for key in optional if key in header},
        "alloc": test["pre"],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class NodeProcess:
    """A ``balrex node`` subprocess answering on ``url`` with ``secret``."""

    process: subprocess.Popen[bytes]
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

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_node(genesis: dict[str, Any]) -> Iterator[NodeProcess]:
    """Start a node on a fresh data dir with ``genesis``; stop it (SIGTERM, then SIGKILL) at the end."""
    with tempfile.TemporaryDirectory(prefix="balrex-engine-pass-") as tmp:
        root = Path(tmp)
        genesis_path = root / "genesis.json"
        genesis_path.write_text(json.dumps(genesis))
        secret, _ = load_or_create_secret(root / "jwt.hex")
        port = _free_port()
        log_path = root / "node.log"
        command = [
            str(BALREX), "node", "--datadir", str(root / "data"), "--authrpc.port", str(port),
            "--authrpc.jwtsecret", str(root / "jwt.hex"), "--genesis", str(genesis_path),
        ]  # fmt: skip
        started = time.monotonic()
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        node = NodeProcess(process, f"http://127.0.0.1:{port}", secret, log_path, 0.0)
        try:
            _wait_until_answering(node, started)
            node.start_seconds = time.monotonic() - started
            yield node
        finally:
            _stop(process)


def _wait_until_answering(node: NodeProcess, started: float) -> None:
    while time.monotonic() - started < START_TIMEOUT_S:
        if node.process.poll() is not None:
            raise EnginePassError(f"node exited with {node.process.returncode}:\n{node.log_tail()}")
        try:
            node.call("eth_chainId", [])
            return
        except SendError:
            time.sleep(0.1)
    raise EnginePassError(f"node did not answer within {START_TIMEOUT_S:.0f} s:\n{node.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class EngineCall:
    """One payload to send and what the fixture expects of it."""

    label: str
    # None for a block the fixture expects invalid that has no payload form at all
    # (its RLP does not decode): a consensus client could not send it.
    new_payload: tuple[str, list[Any]] | None
    block_hash: str
    # The forkchoiceUpdated that makes it the head (valid blocks only).
    forkchoice: tuple[str, list[Any]] | None
    # The fixture's exception name when the payload must be refused, else None.
    expect_invalid: str | None
    # The JSON-RPC error code the engine fixture expects instead of a status.
    expect_error_code: int | None = None


def blockchain_test_calls(test: dict[str, Any]) -> list[EngineCall]:
    """The calls of a ``blockchain_test``; pytest.skip when a valid block's requests are not in the file."""
    config = config_from_fixture(test["network"], test["config"])
    calls = []
    for position, block in enumerate(test["blocks"], start=1):
        label = f"block {position}"
        expected = block.get("expectException")
        try:
            payload = fixture_block_payload(config, block)
        except PayloadSourceError as exc:
            if expected is None:
                raise EnginePassError(f"{label}: valid block has no payload form: {exc}") from None
            calls.append(EngineCall(label, None, "", None, expected))  # nothing a CL could send
            continue
        if not payload.requests_match and expected is None:
            pytest.skip(
                f"{label} commits to execution requests (EIP-7685) that a blockchain_test does not carry"
            )
        calls.append(
            EngineCall(
                label=label,
                new_payload=payload.new_payload(),
                block_hash=payload.hash_hex,
                forkchoice=payload.forkchoice() if expected is None else None,
                expect_invalid=expected,
            )
        )
    return calls


def engine_test_calls(test: dict[str, Any]) -> list[EngineCall]:
    """The calls of a ``blockchain_test_engine`` as its ``engineNewPayloads`` list them."""
    config = config_from_fixture(test["network"], test["config"])
    calls = []
    for position, entry in enumerate(test["engineNewPayloads"], start=1):
        label = f"payload {position}"
        payload = entry["params"][0]
        version = int(entry["newPayloadVersion"])
        expected_version = new_payload_version(config.fork_at(int(payload["timestamp"], 16)))
        if "errorCode" not in entry and version != expected_version:
            raise EnginePassError(
                f"{label}: the fixture calls V{version}, the fork table says V{expected_version}"
            )
        error_code = int(entry["errorCode"]) if "errorCode" in entry else None
        invalid = entry.get("validationError")
        valid = invalid is None and error_code is None
        calls.append(
            EngineCall(
                label=label,
                new_payload=(f"engine_newPayloadV{version}", entry["params"]),
                block_hash=payload["blockHash"],
                forkchoice=forkchoice_call(int(entry["forkchoiceUpdatedVersion"]), payload["blockHash"])
                if valid
                else None,
                expect_invalid=invalid,
                expect_error_code=error_code,
            )
        )
    return calls


def _send(node: NodeProcess, call: EngineCall, outcomes: Outcomes) -> None:
    if call.new_payload is None:
        outcomes.reject("no payload form, not sent", str(call.expect_invalid), call.label)
        return
    method, params = call.new_payload
    answer = node.call(method, params)
    if call.expect_error_code is not None:
        error = answer.get("error")
        if error is None or error.get("code") != call.expect_error_code:
            raise EnginePassError(f"{call.label}: expected error {call.expect_error_code}, got {answer}")
        outcomes.reject(
            f"json-rpc error {call.expect_error_code}", f"errorCode {call.expect_error_code}", str(error)
        )
        return
    if call.expect_invalid is not None:
        if "error" in answer:  # refused before it became a block (e.g. a malformed field)
            outcomes.reject(
                f"json-rpc error {answer['error'].get('code')}", call.expect_invalid, str(answer["error"])
            )
            return
        status = answer["result"]
        if status["status"] != "INVALID" or not status.get("validationError"):
            raise EnginePassError(f"{call.label}: expected INVALID ({call.expect_invalid}), got {status}")
        rule = status["validationError"].split(":", 1)[0]
        outcomes.reject(rule, call.expect_invalid, status["validationError"])
        # The same table as the execution passes: the node must reject for the fixture's reason.
        check_rejection(rule, call.expect_invalid, f"{call.label}: {status['validationError']}")
        return
    if "error" in answer:
        raise EnginePassError(f"{call.label}: valid payload refused: {answer['error']}\n{node.log_tail()}")
    status = answer["result"]
    expected_status = {"status": "VALID", "latestValidHash": call.block_hash, "validationError": None}
    if status != expected_status:
        raise EnginePassError(f"{call.label}: expected {expected_status}, got {status}\n{node.log_tail()}")
    assert call.forkchoice is not None
    updated = node.result(*call.forkchoice)["payloadStatus"]
    if updated["status"] != "VALID" or updated["latestValidHash"] != call.block_hash:
        raise EnginePassError(f"{call.label}: forkchoiceUpdated answered {updated}")
    outcomes.valid_blocks += 1


def run_engine_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    calls = engine_test_calls(test) if "engineNewPayloads" in test else blockchain_test_calls(test)
    with running_node(fixture_genesis(test)) as node:
        genesis = node.result("eth_getBlockByNumber", ["0x0", False])
        want_genesis = test["genesisBlockHeader"]["hash"]
        if genesis["hash"] != want_genesis:
            raise EnginePassError(
                f"genesis: the node built {genesis['hash']}, the fixture has {want_genesis}"
            )
        for call in calls:
            _send(node, call, outcomes)
        head = node.result("eth_getBlockByNumber", ["latest", False])["hash"]
        if head != test["lastblockhash"]:
            raise EnginePassError(f"head is {head}, the fixture's lastblockhash is {test['lastblockhash']}")
