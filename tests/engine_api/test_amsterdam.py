"""Amsterdam over the Engine API: newPayloadV5 with the block access list, forkchoiceUpdatedV4, bodies V2.

EF Amsterdam fixtures (EIP-7928 tests without blobs or execution requests)
are replayed as newPayloadV5 payloads: each valid block's ``blockAccessList``
(fixture JSON form) becomes the payload's ``blockAccessList`` (hex of its RLP),
its ``slotNumber`` comes from the header. Then the ways a payload's BAL can be
wrong: missing (-32602), not RLP (INVALID), changed without a new block hash
(INVALID block-hash-mismatch), and changed with the header and block hash
recomputed, so that it reaches execution and the recorder's comparison rejects it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
import rlp
from engine_harness import (
    BAL_HASH,
    Node,
    Payload,
    RpcFailure,
    edit_header,
    genesis_from_fixture,
    load_fixture,
)
from eth_hash.auto import keccak

from bal import AccountChanges, BalanceChange, BlockAccessList, bal_from_json, bal_to_engine_hex

pytestmark = pytest.mark.integration  # real processes: node subprocesses

ARCHIVE = "for_amsterdam.tar.gz"
BAL_TESTS = "for_amsterdam/amsterdam/eip7928_block_level_access_lists"
CASES = {
    "balance-changes": f"{BAL_TESTS}/block_access_lists/bal_balance_changes.json",
    "storage-writes-same-slot": f"{BAL_TESTS}/block_access_lists/bal_multiple_storage_writes_same_slot.json",
    "withdrawal-and-transaction": (
        f"{BAL_TESTS}/block_access_lists_eip4895/bal_withdrawal_and_transaction.json"
    ),
}
ZERO = "0x" + "00" * 32
EMPTY_BAL_HASH = "0x" + keccak(rlp.encode([])).hex()


def _payload(block: dict[str, Any]) -> Payload:
    return Payload(block["rlp"], bal_to_engine_hex(bal_from_json(block["blockAccessList"])))


def _fcu_v4(node: Node, head: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    state = {"headBlockHash": head, "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}
    return node.rpc("engine_forkchoiceUpdatedV4", state, attributes)


def _error_code(node: Node, method: str, *params: Any) -> int:
    with pytest.raises(RpcFailure) as failure:
        node.rpc(method, *params)
    return failure.value.code


@pytest.mark.parametrize("case", list(CASES))
def test_amsterdam_fixture_replays_through_new_payload_v5(case: str, start_node: Any) -> None:
    test = load_fixture(ARCHIVE, CASES[case])
    assert test["network"] == "Amsterdam"
    node = start_node(genesis_from_fixture(test))  # --genesis with amsterdamTime
    genesis = node.head()
    assert genesis["hash"] == test["genesisBlockHeader"]["hash"]
    assert genesis["blockAccessListHash"] == EMPTY_BAL_HASH
    assert genesis["slotNumber"] == hex(int(test["genesisBlockHeader"]["slotNumber"], 16))
    valid = []
    for block in test["blocks"]:
        assert "expectException" not in block
        payload = _payload(block)
        method, params = payload.new_payload()
        assert method == "engine_newPayloadV5"
        assert params[0]["slotNumber"] == hex(int(block["blockHeader"]["slotNumber"], 16))
        status = node.rpc(method, *params)
        assert status == {"status": "VALID", "latestValidHash": payload.hash_hex, "validationError": None}
        answer = _fcu_v4(node, payload.hash_hex)
        assert answer["payloadStatus"]["status"] == "VALID" and answer["payloadId"] is None
        head = node.head()
        assert head["hash"] == payload.hash_hex
        assert head["stateRoot"] == block["blockHeader"]["stateRoot"]
        assert head["blockAccessListHash"] == block["blockHeader"]["blockAccessListHash"]
        valid.append(payload)
    assert node.head()["hash"] == test["lastblockhash"]
    # Bodies V2 serve the stored BAL (the recorded one: byte-equal to the payload's); V1 do not.
    expected = [
        {
            "transactions": p.payload["transactions"],
            "withdrawals": p.payload["withdrawals"],
            "blockAccessList": p.payload["blockAccessList"],
        }
        for p in valid
    ]
    assert node.rpc("engine_getPayloadBodiesByHashV2", [p.hash_hex for p in valid] + [ZERO]) == [
        *expected,
        None,
    ]
    assert node.rpc("engine_getPayloadBodiesByRangeV2", "0x1", "0x20") == expected
    v1 = node.rpc("engine_getPayloadBodiesByRangeV1", "0x1", "0x20")
    assert v1 == [{k: v for k, v in body.items() if k != "blockAccessList"} for body in expected]


def test_bad_block_access_lists_and_fork_checks(start_node: Any) -> None:
    test = load_fixture(ARCHIVE, CASES["balance-changes"])
    node = start_node(genesis_from_fixture(test))
    genesis = node.head()
    (block,) = test["blocks"]
    good = _payload(block)
    method, params = good.new_payload()
    body = params[0]

    def with_payload(payload: dict[str, Any]) -> list[Any]:
        return [payload, *params[1:]]

    # Missing fields of ExecutionPayloadV4: -32602.
    for field in ("blockAccessList", "slotNumber"):
        spoiled = {k: v for k, v in body.items() if k != field}
        assert _error_code(node, method, *with_payload(spoiled)) == -32602
    # Not hex data: -32602 (the DATA rule of the params).
    assert _error_code(node, method, *with_payload({**body, "blockAccessList": "0x123"})) == -32602
    # Hex, but not a BAL's RLP: INVALID, naming the decode rule; no block, so no latest valid hash.
    for bad, rule in (("0xf8", "malformed-rlp"), ("0x01", "wrong-shape")):
        status = node.rpc(method, *with_payload({**body, "blockAccessList": bad}))
        assert status["status"] == "INVALID" and status["latestValidHash"] is None, status
        assert status["validationError"].startswith(f"malformed-block-access-list: {rule}"), status
    # Wrong method version for an Amsterdam timestamp: -38005 (V4 and V3 take no BAL at all).
    v3_body = {k: v for k, v in body.items() if k not in ("blockAccessList", "slotNumber")}
    assert _error_code(node, "engine_newPayloadV4", v3_body, *params[1:]) == -38005
    assert _error_code(node, "engine_newPayloadV3", v3_body, *params[1:3]) == -38005

    lie = bal_from_json(block["blockAccessList"])
    # 1. One post balance changed, blockHash kept: the header built from the payload commits
    #    to the lying BAL, so its hash is not the blockHash.
    accounts = list(lie.accounts)
    index = next(i for i, a in enumerate(accounts) if a.balance_changes)
    change = accounts[index].balance_changes[0]
    accounts[index] = dataclasses.replace(
        accounts[index],
        balance_changes=(BalanceChange(change.block_access_index, change.post_balance + 1),),
    )
    wrong_value = bal_to_engine_hex(BlockAccessList(tuple(accounts)))
    status = node.rpc(method, *with_payload({**body, "blockAccessList": wrong_value}))
    assert status["status"] == "INVALID" and status["latestValidHash"] is None, status
    assert status["validationError"].startswith("block-hash-mismatch: "), status

    # 2. The same lie with the header's BAL hash and the block hash recomputed: it reaches
    #    the import; execution records a different post-value than the lying BAL claims.
    rehashed = Payload(
        edit_header(block["rlp"], {BAL_HASH: keccak(bytes.fromhex(wrong_value[2:]))}), wrong_value
    )
    status = node.rpc(*_call(rehashed))
    assert status["status"] == "INVALID", status
    assert status["validationError"].startswith("wrong-post-value: "), status

    # 3. A lie that leaves the state alone (an extra, untouched account) with header and hash
    #    recomputed: execution runs and the recorded BAL differs from it. amsterdam.md:
    #    INVALID with latestValidHash null and the error.
    extra = AccountChanges(address=bytes.fromhex("dead" + "00" * 18))
    padded = BlockAccessList(tuple(sorted((*lie.accounts, extra), key=lambda a: a.address)))
    extra_hex = bal_to_engine_hex(padded)
    lying = Payload(edit_header(block["rlp"], {BAL_HASH: keccak(bytes.fromhex(extra_hex[2:]))}), extra_hex)
    assert lying.hash_hex != good.hash_hex
    status = node.rpc(*_call(lying))
    assert status["status"] == "INVALID" and status["latestValidHash"] is None, status
    assert status["validationError"].startswith("extra-account: "), status
    assert "0xdead" in status["validationError"], status
    assert node.rpc(*_call(lying)) == status  # remembered
    assert _fcu_v4(node, lying.hash_hex)["payloadStatus"]["status"] == "INVALID"
    assert node.rpc("engine_getPayloadBodiesByHashV2", [lying.hash_hex]) == [None]
    assert node.head() == genesis
    assert "status=INVALID txs=1 gas=- reads=- ms=" in node.log()
    # The merkleizer's workers are alive and idle (sleeping): none is left working on a dead block
    # (one busy when its block failed is killed and replaced; the new one may still be starting).
    deadline = time.monotonic() + 10
    while set((workers := node.children()).values()) != {"S"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and set(workers.values()) == {"S"}, workers

    # The true payload is still VALID; forkchoiceUpdatedV4 makes it the head.
    assert node.rpc(method, *params)["status"] == "VALID"
    head_timestamp = int(body["timestamp"], 16)
    attributes = {
        "timestamp": hex(head_timestamp + 12),
        "prevRandao": ZERO,
        "suggestedFeeRecipient": "0x" + "00" * 20,
        "withdrawals": [],
        "parentBeaconBlockRoot": ZERO,
        "slotNumber": "0x2",
    }
    answer = _fcu_v4(node, good.hash_hex, attributes)
    assert answer["payloadStatus"]["status"] == "VALID" and answer["payloadId"].startswith("0x04")
    assert node.head()["hash"] == good.hash_hex
    state = {"headBlockHash": good.hash_hex, "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}
    no_slot = {k: v for k, v in attributes.items() if k != "slotNumber"}
    assert _error_code(node, "engine_forkchoiceUpdatedV4", state, no_slot) == -38003
    past = {**attributes, "timestamp": body["timestamp"]}
    assert _error_code(node, "engine_forkchoiceUpdatedV4", state, past) == -38003
    # forkchoiceUpdatedV3 with attributes for an Amsterdam timestamp: -38005 (amsterdam.md, Osaka API).
    assert _error_code(node, "engine_forkchoiceUpdatedV3", state, no_slot) == -38005
    assert node.head()["hash"] == good.hash_hex


def _call(payload: Payload) -> tuple[Any, ...]:
    method, params = payload.new_payload()
    return (method, *params)


def test_v5_on_a_prague_chain_is_unsupported_fork(start_node: Any) -> None:
    test = load_fixture(
        "for_prague.tar.gz",
        "for_prague/prague/eip7702_set_code_tx/set_code_txs_2/gas_diff_pointer_vs_direct_call.json",
    )
    node = start_node(genesis_from_fixture(test))
    method, params = Payload(test["blocks"][0]["rlp"]).new_payload()
    assert method == "engine_newPayloadV4"
    v4_payload = {**params[0], "blockAccessList": "0xc0", "slotNumber": "0x1"}
    assert _error_code(node, "engine_newPayloadV5", v4_payload, *params[1:]) == -38005
    assert node.rpc(method, *params)["status"] == "VALID"
    state = {"headBlockHash": params[0]["blockHash"], "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}
    attributes = {
        "timestamp": hex(int(params[0]["timestamp"], 16) + 12),
        "prevRandao": ZERO,
        "suggestedFeeRecipient": "0x" + "00" * 20,
        "withdrawals": [],
        "parentBeaconBlockRoot": ZERO,
        "slotNumber": "0x1",
    }
    assert _error_code(node, "engine_forkchoiceUpdatedV4", state, attributes) == -38005
    # the fork choice itself was applied before the attributes were refused
    assert node.head()["hash"] == params[0]["blockHash"]


def test_dev_genesis_is_amsterdam(start_node: Any) -> None:
    node = start_node(None)
    genesis = node.head()
    assert genesis["blockAccessListHash"] == EMPTY_BAL_HASH
    assert genesis["slotNumber"] == "0x0"
    assert genesis["requestsHash"] == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    capabilities = node.rpc("engine_exchangeCapabilities", [])
    assert {"engine_newPayloadV5", "engine_forkchoiceUpdatedV4", "engine_getPayloadBodiesByHashV2"} <= set(
        capabilities
    )
    attributes = {
        "timestamp": "0xc",
        "prevRandao": ZERO,
        "suggestedFeeRecipient": "0x" + "00" * 20,
        "withdrawals": [],
        "parentBeaconBlockRoot": ZERO,
        "slotNumber": "0x1",
    }
    answer = _fcu_v4(node, genesis["hash"], attributes)
    assert answer["payloadStatus"]["status"] == "VALID" and answer["payloadId"].startswith("0x04")
    # Prague methods refuse Amsterdam timestamps.
    state = {"headBlockHash": genesis["hash"], "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}
    no_slot = {k: v for k, v in attributes.items() if k != "slotNumber"}
    assert _error_code(node, "engine_forkchoiceUpdatedV3", state, no_slot) == -38005
