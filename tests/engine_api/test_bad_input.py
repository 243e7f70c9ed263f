"""Bad input, one test per case, against one running node: each is refused the way the
Engine API says, and afterwards the node still answers and its head has not moved.

The node runs a Cancun fixture's genesis, so the payload cases have real
fixture blocks to spoil; none of the cases may import anything.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from engine_harness import Node, Payload, genesis_from_fixture, load_fixture

pytestmark = pytest.mark.integration  # real processes: node subprocesses

MAX_BODY = 64 * 1024
FIXTURE = (
    "for_cancun.tar.gz",
    "for_cancun/cancun/eip4844_blobs/blobhash_opcode/blobhash_multiple_txs_in_block.json",
)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    test = load_fixture(*FIXTURE)
    running = Node(
        tmp_path_factory.mktemp("bad-input") / "node",
        genesis_from_fixture(test),
        ("--authrpc.max-body", str(MAX_BODY)),
    )
    try:
        running.start()
        yield running
    finally:
        running.kill()


@pytest.fixture(scope="module")
def payloads() -> list[Payload]:
    return [Payload(block["rlp"]) for block in load_fixture(*FIXTURE)["blocks"]]


@pytest.fixture
def unchanged(node: Node) -> Iterator[None]:
    """The head before the case equals the head after it, and the node still answers."""
    before = node.head()
    yield
    assert node.rpc("eth_chainId") == "0x1"
    assert node.head() == before


def request(method: str, *params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}


CHAIN_ID = request("eth_chainId")


# -- HTTP level: auth, body size ------------------------------------------------


def test_no_token_is_401(node: Node, unchanged: None) -> None:
    response = node.post(CHAIN_ID, headers={})
    assert response.status_code == 401
    assert "result" not in response.text


def test_not_a_bearer_token_is_401(node: Node, unchanged: None) -> None:
    assert node.post(CHAIN_ID, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_wrong_secret_is_401(node: Node, unchanged: None) -> None:
    wrong = bytes(b ^ 0xFF for b in node.secret)
    assert node.post(CHAIN_ID, headers=node.headers(secret=wrong)).status_code == 401


@pytest.mark.parametrize("offset", [-61, -120, 61, 3600])
def test_stale_or_future_iat_is_401(node: Node, unchanged: None, offset: int) -> None:
    assert node.post(CHAIN_ID, headers=node.headers(iat=time.time() + offset)).status_code == 401


def test_iat_within_the_window_is_accepted(node: Node, unchanged: None) -> None:
    response = node.post(CHAIN_ID, headers=node.headers(iat=time.time() - 50))
    assert response.status_code == 200 and response.json()["result"] == "0x1"


def _raw_http(node: Node, head: bytes, chunks: Callable[[socket.socket], None]) -> bytes:
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(head)
        try:
            chunks(s)
        except OSError:
            pass  # the server may close while we still send: it has refused the body
        data = b""
        while not data.endswith(b"}") or b"\r\n\r\n" not in data:
            part = s.recv(65536)
            if not part:
                break
            data += part
        return data


def _head(node: Node, extra: str) -> bytes:
    token = node.headers()["Authorization"]
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_declared_oversized_body_is_413_before_it_is_sent(node: Node, unchanged: None) -> None:
    # Content-Length claims 1 GB and not one byte of it is sent: the answer comes anyway.
    answer = _raw_http(node, _head(node, f"Content-Length: {10**9}\r\n"), lambda s: None)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_chunked_body_growing_past_the_limit_is_413(node: Node, unchanged: None) -> None:
    def send_chunks(s: socket.socket) -> None:
        chunk = b"x" * 16384
        for _ in range(MAX_BODY // len(chunk) + 2):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    answer = _raw_http(node, _head(node, "Transfer-Encoding: chunked\r\n"), send_chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_body_just_under_the_limit_is_served(node: Node, unchanged: None) -> None:
    body = json.dumps(CHAIN_ID).encode()
    body = body[:-1] + b" " * (MAX_BODY - len(body)) + b"}"
    assert len(body) == MAX_BODY
    assert node.post(content=body).json()["result"] == "0x1"
    response = node.post(content=body + b" ")  # one byte more
    assert response.status_code == 413


def test_get_is_405(node: Node, unchanged: None) -> None:
    assert node.client.get(node.url, headers=node.headers()).status_code == 405


# -- JSON-RPC level -------------------------------------------------------------


def error_code(node: Node, body: Any = None, content: bytes | None = None) -> int:
    response = node.post(body, content=content)
    assert response.status_code == 200
    answer = response.json()
    assert "result" not in answer, answer
    return answer["error"]["code"]


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"jsonrpc": "2.0", "id": 1,', b"\xff\xfe"])
def test_malformed_json_is_32700(node: Node, unchanged: None, content: bytes) -> None:
    assert error_code(node, content=content) == -32700


@pytest.mark.parametrize(
    "body",
    [
        [],
        42,
        "eth_chainId",
        {"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"},
        {"id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": "x"},
        {"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"},
    ],
    ids=[
        "empty-batch",
        "number",
        "string",
        "v1",
        "no-version",
        "method-not-string",
        "params-string",
        "id-list",
    ],
)
def test_not_a_request_object_is_32600(node: Node, unchanged: None, body: Any) -> None:
    assert error_code(node, body) == -32600


def test_unknown_method_is_32601(node: Node, unchanged: None) -> None:
    assert error_code(node, request("engine_getPayloadV9", "0x01")) == -32601


def test_batch_answers_each_request_in_order(node: Node, unchanged: None) -> None:
    answer = node.post(
        [CHAIN_ID | {"id": 1}, request("nope") | {"id": 2}, 3, request("eth_blockNumber") | {"id": 4}]
    )
    results = answer.json()
    assert [r["id"] for r in results] == [1, 2, None, 4]
    assert results[0]["result"] == "0x1"
    assert results[1]["error"]["code"] == -32601
    assert results[2]["error"]["code"] == -32600
    assert results[3]["result"] == node.rpc("eth_blockNumber")


def _spoil(payloads: list[Payload], **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(payloads[0].payload)
    for key, value in changes.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = value
    return payload


def _v3(payloads: list[Payload], payload: dict[str, Any]) -> list[Any]:
    _, params = payloads[0].new_payload(payload)
    return params


@pytest.mark.parametrize(
    "case",
    [
        "no-params",
        "missing-beacon-root",
        "too-many-params",
        "params-object",
        "quantity-leading-zero",
        "quantity-not-hex",
        "hash-too-short",
        "bloom-wrong-size",
        "missing-field",
        "extra-field",
        "odd-hex-tx",
        "blob-gas-as-int",
    ],
)
def test_wrong_or_missing_params_are_32602(
    node: Node, unchanged: None, payloads: list[Payload], case: str
) -> None:
    p = payloads[0]
    good = _v3(payloads, p.payload)
    bodies = {
        "no-params": request("engine_newPayloadV3"),
        "missing-beacon-root": request("engine_newPayloadV3", *good[:2]),
        "too-many-params": request("engine_newPayloadV3", *good, []),
        "params-object": {"jsonrpc": "2.0", "id": 1, "method": "engine_newPayloadV3", "params": {"a": 1}},
        "quantity-leading-zero": request(
            "engine_newPayloadV3", *_v3(payloads, _spoil(payloads, blockNumber="0x01"))
        ),
        "quantity-not-hex": request("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, gasUsed="12"))),
        "hash-too-short": request(
            "engine_newPayloadV3", *_v3(payloads, _spoil(payloads, stateRoot="0x1234"))
        ),
        "bloom-wrong-size": request(
            "engine_newPayloadV3", *_v3(payloads, _spoil(payloads, logsBloom="0x00"))
        ),
        "missing-field": request("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, excessBlobGas=None))),
        "extra-field": request("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, surprise="0x1"))),
        "odd-hex-tx": request(
            "engine_newPayloadV3", *_v3(payloads, _spoil(payloads, transactions=["0x123"]))
        ),
        "blob-gas-as-int": request("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, blobGasUsed=0))),
    }
    assert error_code(node, bodies[case]) == -32602


def test_eth_get_block_bad_tag_is_32602(node: Node, unchanged: None) -> None:
    assert error_code(node, request("eth_getBlockByNumber", "newest", False)) == -32602
    assert error_code(node, request("eth_getBlockByNumber", "latest")) == -32602


# -- payload semantics ------------------------------------------------------------


def test_wrong_block_hash_is_invalid(node: Node, unchanged: None, payloads: list[Payload]) -> None:
    status = node.rpc("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, blockHash="0x" + "ab" * 32)))
    assert status["status"] == "INVALID"
    assert status["latestValidHash"] is None
    assert "block-hash-mismatch" in status["validationError"]


def test_changed_field_without_new_hash_is_invalid(
    node: Node, unchanged: None, payloads: list[Payload]
) -> None:
    status = node.rpc("engine_newPayloadV3", *_v3(payloads, _spoil(payloads, gasUsed="0x1")))
    assert status["status"] == "INVALID" and "block-hash-mismatch" in status["validationError"]


def test_wrong_blob_versioned_hashes_are_invalid(
    node: Node, unchanged: None, payloads: list[Payload]
) -> None:
    params = _v3(payloads, payloads[0].payload)
    assert params[1], "the fixture block must carry blobs"
    for hashes in ([], params[1][::-1], [*params[1], "0x01" + "00" * 31]):
        status = node.rpc("engine_newPayloadV3", params[0], hashes, params[2])
        assert status["status"] == "INVALID"
        assert "blob-versioned-hashes-mismatch" in status["validationError"]


def test_cancun_payload_through_v4_is_unsupported_fork(
    node: Node, unchanged: None, payloads: list[Payload]
) -> None:
    assert error_code(node, request("engine_newPayloadV4", *_v3(payloads, payloads[0].payload), [])) == -38005


def test_unknown_parent_is_syncing(node: Node, unchanged: None, payloads: list[Payload]) -> None:
    # block 2's parent (block 1) has not been sent to this node
    status = node.rpc("engine_newPayloadV3", *payloads[1].new_payload()[1])
    assert status == {"status": "SYNCING", "latestValidHash": None, "validationError": None}


def test_unknown_head_is_syncing(node: Node, unchanged: None) -> None:
    answer = node.forkchoice("0x" + "77" * 32)
    assert answer == {
        "payloadStatus": {"status": "SYNCING", "latestValidHash": None, "validationError": None},
        "payloadId": None,
    }


def test_finalized_off_the_head_chain_is_38002(node: Node, unchanged: None) -> None:
    genesis = node.rpc("eth_getBlockByNumber", "0x0", False)["hash"]
    code = error_code(
        node,
        request(
            "engine_forkchoiceUpdatedV3",
            {"headBlockHash": genesis, "safeBlockHash": genesis, "finalizedBlockHash": "0x" + "66" * 32},
            None,
        ),
    )
    assert code == -38002


def test_payload_attributes_in_the_past_are_38003(node: Node, unchanged: None) -> None:
    head = node.head()
    attributes = {
        "timestamp": head["timestamp"],
        "prevRandao": "0x" + "00" * 32,
        "suggestedFeeRecipient": "0x" + "00" * 20,
        "withdrawals": [],
        "parentBeaconBlockRoot": "0x" + "00" * 32,
    }
    state = {"headBlockHash": head["hash"], "safeBlockHash": head["hash"], "finalizedBlockHash": head["hash"]}
    assert error_code(node, request("engine_forkchoiceUpdatedV3", state, attributes)) == -38003
    attributes["timestamp"] = hex(int(head["timestamp"], 16) + 12)
    answer = node.rpc("engine_forkchoiceUpdatedV3", state, attributes)
    assert answer["payloadStatus"]["status"] == "VALID" and len(answer["payloadId"]) == 18  # 8 bytes


def test_too_many_bodies_is_38004(node: Node, unchanged: None) -> None:
    assert error_code(node, request("engine_getPayloadBodiesByHashV1", ["0x" + "00" * 32] * 33)) == -38004
    assert error_code(node, request("engine_getPayloadBodiesByRangeV1", "0x1", "0x21")) == -38004
    assert error_code(node, request("engine_getPayloadBodiesByRangeV1", "0x0", "0x1")) == -32602
