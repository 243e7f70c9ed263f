"""EF blockchain fixtures replayed through a real ``balrex node`` over HTTP as Engine API payloads.

Each fixture's ``pre`` and genesis header become a geth-style genesis file;
each block becomes a newPayload (V3 for Cancun, V4 with no execution requests
for Prague: these fixtures' blocks carry none), valid ones are made the head
with forkchoiceUpdated, invalid ones must be answered INVALID and leave the
head alone, and the final head must be the fixture's ``lastblockhash``.
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_harness import Payload, genesis_from_fixture, load_fixture
from eth_hash.auto import keccak

pytestmark = pytest.mark.integration  # real processes: node subprocesses

CASES = {
    "cancun-blobs-3-valid": (
        "for_cancun.tar.gz",
        "for_cancun/cancun/eip4844_blobs/blobhash_opcode/blobhash_multiple_txs_in_block.json",
    ),
    "cancun-valid-then-invalid": (
        "for_cancun.tar.gz",
        "for_cancun/cancun/eip4844_blobs/blob_txs/invalid_tx_max_fee_per_blob_gas.json",
    ),
    "prague-7702-3-valid": (
        "for_prague.tar.gz",
        "for_prague/prague/eip7702_set_code_tx/set_code_txs_2/gas_diff_pointer_vs_direct_call.json",
    ),
    "prague-invalid-tx": (
        "for_prague.tar.gz",
        "for_prague/prague/eip7702_set_code_tx/set_code_txs/invalid_transaction_after_authorization.json",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fixture_replays_over_the_engine_api(case: str, start_node: Any) -> None:
    test = load_fixture(*CASES[case])
    node = start_node(genesis_from_fixture(test))
    genesis_hash = test["genesisBlockHeader"]["hash"]
    assert node.rpc("eth_getBlockByNumber", "0x0", False)["hash"] == genesis_hash
    assert node.head()["hash"] == genesis_hash
    expected_method = "engine_newPayloadV4" if test["network"] == "Prague" else "engine_newPayloadV3"
    seen_invalid = 0
    for block in test["blocks"]:
        payload = Payload(block["rlp"])
        method, params = payload.new_payload()
        assert method == expected_method
        head_before = node.head()
        status = node.rpc(method, *params)
        if "expectException" in block:
            seen_invalid += 1
            assert status["status"] == "INVALID", (block["expectException"], status)
            assert status["latestValidHash"] == "0x" + payload.parent_hash.hex()
            assert status["validationError"]
            # remembered: the repeat is INVALID again, and fork choice refuses it
            assert node.rpc(method, *params) == status
            assert node.forkchoice(payload.hash_hex)["payloadStatus"]["status"] == "INVALID"
            assert node.head() == head_before
            assert node.rpc("eth_getBlockByHash", payload.hash_hex, False) is None
            continue
        assert status == {"status": "VALID", "latestValidHash": payload.hash_hex, "validationError": None}
        assert node.head() == head_before, "newPayload alone must not move the head"
        answer = node.forkchoice(payload.hash_hex)
        assert answer == {
            "payloadStatus": {
                "status": "VALID",
                "latestValidHash": payload.hash_hex,
                "validationError": None,
            },
            "payloadId": None,
        }
        head = node.head()
        assert head["hash"] == payload.hash_hex
        assert head["number"] == hex(payload.number)
        assert head["stateRoot"] == block["blockHeader"]["stateRoot"]
        assert head["transactions"] == [
            "0x" + keccak(bytes.fromhex(tx[2:])).hex() for tx in payload.payload["transactions"]
        ]
        assert len(head["transactions"]) == len(block["transactions"])
        assert node.rpc("eth_blockNumber") == hex(payload.number)
        txs, gas = len(payload.payload["transactions"]), int(payload.payload["gasUsed"], 16)
        # Each block's parent is the head forkchoice chose, so it reads the flat state.
        line = (
            f"newPayload number={payload.number} hash={payload.hash_hex} status=VALID txs={txs} gas={gas} "
            "reads=flat-state ms="
        )
        assert line in node.log()
        bodies = node.rpc("engine_getPayloadBodiesByHashV1", [payload.hash_hex])
        body = {
            "transactions": payload.payload["transactions"],
            "withdrawals": payload.payload["withdrawals"],
        }
        assert bodies == [body]
    assert seen_invalid == sum("expectException" in b for b in test["blocks"])
    assert node.head()["hash"] == test["lastblockhash"]
    # bodies of the canonical chain by range: no trailing nulls past the head; V2 adds a null BAL
    valid = [Payload(b["rlp"]) for b in test["blocks"] if "expectException" not in b]
    expected = [
        {"transactions": p.payload["transactions"], "withdrawals": p.payload["withdrawals"]} for p in valid
    ]
    assert node.rpc("engine_getPayloadBodiesByRangeV1", "0x1", "0x20") == expected
    v2 = node.rpc("engine_getPayloadBodiesByHashV2", [p.hash_hex for p in valid] + ["0x" + "00" * 32])
    assert v2 == [{**body, "blockAccessList": None} for body in expected] + [None]
