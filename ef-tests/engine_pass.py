"""The ``engine`` pass: every fixture block sent to a real ``balrex node`` over HTTP.

Why it exists: the other passes call the pipeline in-process; this one goes
through everything a consensus client touches (JWT, JSON-RPC, the payload
models, payload -> block, the version-per-fork rules, the memory of invalid
payloads, fork choice), so a fixture that passes ``bal`` but fails here points
at the Engine API layer.

A node runs on a fresh data dir with the test's genesis (a geth-style genesis
from ``pre``, the genesis header and the network's fork schedule) on a free
loopback port. Start-up takes seconds, so consecutive tests of the same
genesis share the node (``engine_nodes``; the runner puts them next to each
other, :func:`node_group`): each test first moves the head back to the genesis
with ``forkchoiceUpdated`` and then builds its own branch. A block an earlier
test already sent is the same block (its hash covers its parent and contents):
``VALID`` is then answered from the store and ``INVALID`` from the memory of
invalid payloads, with the verdict of the first time, and both are checked
exactly as a fresh import's would be.

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
only their hash: the harness derives them by executing the chain in-process
(``fixture_requests``) and sends them only if they match the commitment.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from typing import Any

from engine_nodes import EnginePassError, NodeProcess, SharedNode, genesis_key
from exception_map import check_rejection
from fixture_requests import RequestsNotDerived, executed_requests
from node_zygote import Zygote
from outcomes import Outcomes

from client.chain_config import config_from_fixture, fork_schedule
from client.engine_versions import forkchoice_version, new_payload_version
from client.tools.payloads import EnginePayload, PayloadSourceError, fixture_block_payload, forkchoice_call

# The node of this process, kept for the next test of the same genesis (``engine_nodes``) and
# forked from a zygote (``node_zygote``; the runner's --node-start process turns that off);
# stopped at the session's end (ef-tests/conftest.py), or at exit when a caller did not.
SHARED_NODE = SharedNode(Zygote())
atexit.register(SHARED_NODE.shut_down)


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
    """The calls of a ``blockchain_test``, with execution requests derived where the header commits to some.

    The file holds no requests: a block whose header's ``requestsHash`` is not
    that of no requests gets the ones balrex's own execution of it collects
    (``fixture_requests``). A valid block's must hash to its header's
    commitment, else the harness fails the test; a block expected invalid is
    sent with them if it executes at all, else with none (the node then names
    the hash mismatch).
    """
    config = config_from_fixture(test["network"], test["config"])
    payloads: list[EnginePayload | PayloadSourceError] = []
    for block in test["blocks"]:
        try:
            payloads.append(fixture_block_payload(config, block))
        except PayloadSourceError as exc:
            payloads.append(exc)
    if any(isinstance(p, EnginePayload) and not p.requests_match for p in payloads):
        try:
            derived = executed_requests(test)
        except RequestsNotDerived as exc:
            raise EnginePassError(f"execution requests: {exc}") from None
        for position, requests in enumerate(derived):
            payload = payloads[position]
            if isinstance(payload, EnginePayload) and not payload.requests_match and requests is not None:
                payloads[position] = fixture_block_payload(config, test["blocks"][position], requests)
    calls = []
    for position, (block, payload) in enumerate(zip(test["blocks"], payloads, strict=True), start=1):
        label = f"block {position}"
        expected = block.get("expectException")
        if isinstance(payload, PayloadSourceError):
            if expected is None:
                raise EnginePassError(f"{label}: valid block has no payload form: {payload}")
            calls.append(EngineCall(label, None, "", None, expected))  # nothing a CL could send
            continue
        if not payload.requests_match and expected is None:
            raise EnginePassError(
                f"{label}: the execution requests its execution collects do not hash to its requestsHash"
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


def node_group(test: dict[str, Any]) -> str:
    """Tests of one group can share a node: the digest of the genesis the node starts with."""
    return genesis_key(fixture_genesis(test))


def run_engine_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    calls = engine_test_calls(test) if "engineNewPayloads" in test else blockchain_test_calls(test)
    node = SHARED_NODE.node_for(fixture_genesis(test), outcomes)
    try:
        _run_calls(node, test, calls, outcomes)
    except BaseException:
        SHARED_NODE.close()  # whatever the failure left in the node, the next test does not meet it
        raise


def _run_calls(node: NodeProcess, test: dict[str, Any], calls: list[EngineCall], outcomes: Outcomes) -> None:
    """The test's calls on a node of its genesis, from the genesis as head to its ``lastblockhash``."""
    want_genesis = test["genesisBlockHeader"]["hash"]
    genesis = node.result("eth_getBlockByNumber", ["0x0", False])
    if genesis["hash"] != want_genesis:
        raise EnginePassError(f"genesis: the node built {genesis['hash']}, the fixture has {want_genesis}")
    # An earlier test of this genesis may have left its own branch as the head: back to the root.
    config = config_from_fixture(test["network"], test["config"])
    genesis_fork = config.fork_at(int(test["genesisBlockHeader"]["timestamp"], 16))
    reset = node.result(*forkchoice_call(forkchoice_version(genesis_fork), want_genesis))["payloadStatus"]
    if reset["status"] != "VALID" or reset["latestValidHash"] != want_genesis:
        raise EnginePassError(f"forkchoiceUpdated to the genesis answered {reset}")
    for call in calls:
        _send(node, call, outcomes)
    head = node.result("eth_getBlockByNumber", ["latest", False])["hash"]
    if head != test["lastblockhash"]:
        raise EnginePassError(f"head is {head}, the fixture's lastblockhash is {test['lastblockhash']}")
