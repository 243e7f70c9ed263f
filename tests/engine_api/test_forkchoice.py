"""Fork choice and payload bookkeeping through the Engine API: side branches, reorgs,
SYNCING then VALID, invalid ancestors, safe/finalized checks, execution requests."""

from __future__ import annotations

from typing import Any

import pytest
from engine_harness import (
    EXTRA_DATA,
    PARENT_HASH,
    Payload,
    RpcFailure,
    edit_header,
    genesis_from_fixture,
    load_fixture,
)

pytestmark = pytest.mark.integration  # real processes: node subprocesses

TEN_BLOCKS = (
    "for_cancun.tar.gz",
    "for_cancun/cancun/eip4788_beacon_root/beacon_root_contract/multi_block_beacon_root_timestamp_calls.json",
)
VALID_THEN_INVALID = (
    "for_cancun.tar.gz",
    "for_cancun/cancun/eip4844_blobs/blob_txs/invalid_tx_max_fee_per_blob_gas.json",
)
PRAGUE = (
    "for_prague.tar.gz",
    "for_prague/prague/eip7702_set_code_tx/set_code_txs_2/gas_diff_pointer_vs_direct_call.json",
)


def send(node: Any, payload: Payload) -> dict[str, Any]:
    method, params = payload.new_payload()
    return node.rpc(method, *params)


def test_side_branch_and_reorgs(start_node: Any) -> None:
    test = load_fixture(*TEN_BLOCKS)
    node = start_node(genesis_from_fixture(test))
    main = [Payload(b["rlp"]) for b in test["blocks"][:3]]
    for p in main:
        assert send(node, p)["status"] == "VALID"
    node.forkchoice(main[2].hash_hex)
    # a sibling of block 2: same execution, other extraData, so another hash
    sibling = Payload(edit_header(test["blocks"][1]["rlp"], {EXTRA_DATA: b"side branch"}))
    assert sibling.block_hash != main[1].block_hash
    assert send(node, sibling) == {
        "status": "VALID",
        "latestValidHash": sibling.hash_hex,
        "validationError": None,
    }
    assert node.head()["hash"] == main[2].hash_hex, "importing a side block must not move the head"
    assert node.forkchoice(sibling.hash_hex)["payloadStatus"]["status"] == "VALID"
    assert node.head()["hash"] == sibling.hash_hex
    assert node.rpc("eth_blockNumber") == "0x2"
    assert node.rpc("eth_getBlockByNumber", "0x3", False) is None
    assert node.rpc("eth_getBlockByNumber", "0x2", False)["hash"] == sibling.hash_hex
    # back to the main branch, with safe and finalized on it
    answer = node.forkchoice(main[2].hash_hex, safe=main[1].hash_hex, finalized=main[0].hash_hex)
    assert answer["payloadStatus"]["latestValidHash"] == main[2].hash_hex
    assert [node.rpc("eth_getBlockByNumber", hex(n), False)["hash"] for n in (1, 2, 3)] == [
        p.hash_hex for p in main
    ]
    assert node.rpc("eth_getBlockByNumber", "safe", False)["hash"] == main[1].hash_hex
    assert node.rpc("eth_getBlockByNumber", "finalized", False)["hash"] == main[0].hash_hex
    # the sibling is not an ancestor of the main head: -38002, and nothing moves
    try:
        node.forkchoice(main[2].hash_hex, finalized=sibling.hash_hex)
    except RpcFailure as exc:
        assert exc.code == -38002
    else:
        raise AssertionError("finalized off the head's chain must be -38002")
    assert node.rpc("eth_getBlockByNumber", "finalized", False)["hash"] == main[0].hash_hex
    # re-sending a stored block is VALID without changing anything
    assert send(node, main[0])["status"] == "VALID"
    assert node.head()["hash"] == main[2].hash_hex


def test_unknown_parent_is_syncing_until_the_parent_arrives(start_node: Any) -> None:
    test = load_fixture(*TEN_BLOCKS)
    node = start_node(genesis_from_fixture(test))
    first, second = (Payload(b["rlp"]) for b in test["blocks"][:2])
    assert send(node, second)["status"] == "SYNCING"
    assert node.forkchoice(second.hash_hex)["payloadStatus"]["status"] == "SYNCING"
    assert send(node, first)["status"] == "VALID"
    assert send(node, second)["status"] == "VALID"
    assert node.forkchoice(second.hash_hex)["payloadStatus"]["status"] == "VALID"
    assert node.head()["hash"] == second.hash_hex


def test_child_of_an_invalid_block_is_invalid(start_node: Any) -> None:
    test = load_fixture(*VALID_THEN_INVALID)
    node = start_node(genesis_from_fixture(test))
    good, bad = (Payload(b["rlp"]) for b in test["blocks"])
    assert "expectException" in test["blocks"][1]
    assert send(node, good)["status"] == "VALID"
    assert send(node, bad)["status"] == "INVALID"
    child = Payload(edit_header(test["blocks"][1]["rlp"], {PARENT_HASH: bad.block_hash}))
    status = send(node, child)
    assert status["status"] == "INVALID"
    assert status["latestValidHash"] == good.hash_hex
    assert "invalid-ancestor" in status["validationError"]
    assert node.forkchoice(child.hash_hex)["payloadStatus"]["status"] == "INVALID"


def test_execution_requests_enter_the_block_hash(start_node: Any) -> None:
    test = load_fixture(*PRAGUE)
    node = start_node(genesis_from_fixture(test))
    payload = Payload(test["blocks"][0]["rlp"])
    method, params = payload.new_payload()
    assert method == "engine_newPayloadV4" and params[3] == []
    # a withdrawal request the block does not commit to: another requests hash, so another block hash
    status = node.rpc(method, *params[:3], ["0x01" + "ab" * 76])
    assert status["status"] == "INVALID" and "block-hash-mismatch" in status["validationError"]
    for requests in (["0x01"], ["0x02" + "ab" * 116, "0x01" + "ab" * 76], ["0x00" + "ab" * 192] * 2, ["0x1"]):
        try:
            node.rpc(method, *params[:3], requests)
        except RpcFailure as exc:
            assert exc.code == -32602
        else:
            raise AssertionError(f"executionRequests {requests[0][:8]}... must be -32602")
    try:
        node.rpc(method, *params[:3])
    except RpcFailure as exc:
        assert exc.code == -32602
    else:
        raise AssertionError("V4 without executionRequests must be -32602")
    try:
        node.rpc("engine_newPayloadV3", *params[:3])
    except RpcFailure as exc:
        assert exc.code == -38005
    else:
        raise AssertionError("a Prague payload through V3 must be -38005")
    assert node.rpc(method, *params)["status"] == "VALID"
