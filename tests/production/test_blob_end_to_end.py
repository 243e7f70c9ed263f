"""A blob transaction with its sidecar through a real node, as a consensus client sees it.

``eth_sendRawTransaction`` in the network form (blobs, commitments, proofs;
cell proofs from Osaka on) -> ``forkchoiceUpdated`` with attributes ->
``getPayload`` of the fork's version: the transaction in the payload, its
blob, commitment and proofs in ``blobsBundle`` -> ``engine_getBlobs`` of the
fork's version answers the blob (null for a hash the pool does not hold, and
for the other version) -> ``newPayload`` with the versioned hashes is VALID
and a forkchoiceUpdated moves the head there; the receipt shows the blob gas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_harness import Node, free_port
from wallet import blob_transaction

from client.chain_config import Fork
from client.dev_chain import dev_genesis_for
from client.engine_versions import forkchoice_version, new_payload_version

pytestmark = pytest.mark.integration

BEACON_ROOT = "0x" + "44" * 32
GET_PAYLOAD_VERSION = {Fork.PRAGUE: 4, Fork.OSAKA: 5, Fork.AMSTERDAM: 6}
GAS_PER_BLOB = 131_072
# Two blobs of canonical field elements, different from each other.
BLOBS = [b"".join((i * seed + 1).to_bytes(32, "big") for i in range(4096)) for seed in (5, 7)]


def _public(url: str, method: str, *params: Any) -> Any:
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=120
    )
    body = answer.json()
    assert "error" not in body, body
    return body["result"]


@pytest.mark.parametrize("fork", [Fork.PRAGUE, Fork.OSAKA, Fork.AMSTERDAM])
def test_blob_transaction_from_pool_to_head(tmp_path: Path, fork: Fork) -> None:
    cell_proofs = fork != Fork.PRAGUE
    transaction, raw = blob_transaction(0, 0, BLOBS, cell_proofs=cell_proofs)
    hashes = ["0x" + h.hex() for h in transaction.blob_versioned_hashes]
    http_port = free_port()
    public = f"http://127.0.0.1:{http_port}"
    node = Node(tmp_path / "node", dev_genesis_for(fork), ("--http", "--http.port", str(http_port)))
    node.start(timeout=120)
    try:
        assert _public(public, "eth_sendRawTransaction", raw) == "0x" + transaction.hash.hex()

        head = node.rpc("eth_getBlockByNumber", "latest", False)
        fcu = f"engine_forkchoiceUpdatedV{forkchoice_version(fork)}"
        attributes = {
            "timestamp": hex(int(head["timestamp"], 16) + 12),
            "prevRandao": "0x" + "11" * 32,
            "suggestedFeeRecipient": "0x" + "22" * 20,
            "withdrawals": [],
            "parentBeaconBlockRoot": BEACON_ROOT,
        }
        if forkchoice_version(fork) == 4:
            attributes["slotNumber"] = "0x1"
        started = node.rpc(fcu, _state(head["hash"]), attributes)
        built = node.rpc(f"engine_getPayloadV{GET_PAYLOAD_VERSION[fork]}", started["payloadId"])
        payload, bundle = built["executionPayload"], built["blobsBundle"]
        assert payload["transactions"] == ["0x" + transaction.encode().hex()]  # canonical form, no sidecar
        assert int(payload["blobGasUsed"], 16) == GAS_PER_BLOB * len(BLOBS)
        assert bundle["blobs"] == ["0x" + blob.hex() for blob in BLOBS]
        assert len(bundle["commitments"]) == len(BLOBS)
        assert len(bundle["proofs"]) == len(BLOBS) * (128 if cell_proofs else 1)

        unknown = "0x01" + "ab" * 31
        if cell_proofs:
            blobs = node.rpc("engine_getBlobsV2", [hashes[1], hashes[0]])
            assert [item["blob"] for item in blobs] == ["0x" + BLOBS[1].hex(), "0x" + BLOBS[0].hex()]
            assert blobs[0]["proofs"] == bundle["proofs"][128:256]
            assert node.rpc("engine_getBlobsV1", hashes) == [None, None]  # cell proofs are V2's
        else:
            blobs = node.rpc("engine_getBlobsV1", [hashes[0], unknown])
            assert blobs == [{"blob": "0x" + BLOBS[0].hex(), "proof": bundle["proofs"][0]}, None]

        params: list[Any] = [payload, hashes, BEACON_ROOT]
        if new_payload_version(fork) >= 4:
            params.append(built["executionRequests"])
        status = node.rpc(f"engine_newPayloadV{new_payload_version(fork)}", *params)
        assert status["status"] == "VALID", status
        moved = node.rpc(fcu, _state(payload["blockHash"]), None)
        assert moved["payloadStatus"]["status"] == "VALID"
        assert node.rpc("eth_getBlockByNumber", "latest", False)["hash"] == payload["blockHash"]
        receipt = _public(public, "eth_getTransactionReceipt", "0x" + transaction.hash.hex())
        assert receipt["status"] == "0x1" and int(receipt["blobGasUsed"], 16) == GAS_PER_BLOB * len(BLOBS)
    finally:
        node.kill()


def _state(head: str) -> dict[str, str]:
    zero = "0x" + "00" * 32
    return {"headBlockHash": head, "safeBlockHash": zero, "finalizedBlockHash": zero}
