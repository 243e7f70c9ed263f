"""Block production against real processes, started as users start them.

Two ``balrex node --http`` processes: transactions go to the first over HTTP,
its payloads are built, imported by itself and fed to the second through its
Engine API, which must end on the same head and state root; a sibling payload
built by the second is followed by the first (the flat state follows fork
choice). Bad transactions and bad payload attributes get the spec's errors
and change nothing. Then ``balrex dev`` runs a private chain, ``balrex dev
tx`` sends to it, and ``balrex export`` writes a chain ``balrex import-bench``
accepts.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dev_process import DevChain
from engine_harness import BALREX, Node, RpcFailure, free_port
from eth._utils.address import generate_contract_address
from eth.constants import CREATE_CONTRACT_ADDRESS
from wallet import ADDRESSES, GWEI, dynamic, raw_hex

from client.dev_genesis import DEV_BALANCE
from client.tools.bench_chain.contracts import TRANSFER, TRANSFER_TOPIC, call_data, token_initcode

pytestmark = pytest.mark.integration

ZERO = "0x" + "00" * 32
BEACON_ROOT = "0x" + "44" * 32
RECIPIENT = "0x" + "ab" * 20
_TRANSFER_HEX = "0x" + TRANSFER_TOPIC.to_bytes(32, "big").hex()


class Producer:
    """A node with its public port: transactions in over --http, payloads out over the Engine API."""

    def __init__(self, node: Node, http_port: int) -> None:
        self.node = node
        self.public_url = f"http://127.0.0.1:{http_port}"

    def public(self, method: str, *params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        return dict(httpx.post(self.public_url, json=body, timeout=60).json())

    def head(self) -> dict[str, Any]:
        return dict(self.node.rpc("eth_getBlockByNumber", "latest", False))

    def build(self, parent: str, timestamp: int, fee_recipient: str) -> dict[str, Any]:
        """forkchoiceUpdatedV4 to ``parent`` with attributes, then getPayloadV6: the built payload."""
        attributes = {
            "timestamp": hex(timestamp),
            "prevRandao": "0x" + "11" * 32,
            "suggestedFeeRecipient": fee_recipient,
            "withdrawals": [],
            "parentBeaconBlockRoot": BEACON_ROOT,
            "slotNumber": hex(timestamp // 12),
        }
        started = self.node.rpc("engine_forkchoiceUpdatedV4", state(parent), attributes)
        assert started["payloadStatus"]["status"] == "VALID"
        return dict(self.node.rpc("engine_getPayloadV6", started["payloadId"]))

    def take(self, payload: dict[str, Any]) -> None:
        """newPayloadV5 then forkchoiceUpdatedV4 to it: both VALID."""
        status = self.node.rpc("engine_newPayloadV5", payload, [], BEACON_ROOT, [])
        assert status["status"] == "VALID", status
        moved = self.node.rpc("engine_forkchoiceUpdatedV4", state(payload["blockHash"]), None)
        assert moved["payloadStatus"]["status"] == "VALID"


def state(head: str) -> dict[str, str]:
    return {"headBlockHash": head, "safeBlockHash": ZERO, "finalizedBlockHash": ZERO}


@pytest.fixture(scope="module")
def producers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Producer, Producer]]:
    root = tmp_path_factory.mktemp("production")
    started: list[Producer] = []
    try:
        for name in ("a", "b"):
            http_port = free_port()
            node = Node(root / name, None, ("--http", "--http.port", str(http_port)))
            started.append(Producer(node, http_port))
            started[-1].node.start(timeout=120)
        yield started[0], started[1]
    finally:
        for producer in started:
            producer.node.kill()


def test_payloads_built_fed_to_a_second_node_and_a_sibling_followed(
    producers: tuple[Producer, Producer],
) -> None:
    a, b = producers
    genesis = a.head()
    assert b.head()["hash"] == genesis["hash"]
    transactions = [raw_hex(dynamic(i, 0, tip=(i + 1) * GWEI)) for i in range(3)]
    sent = [a.public("eth_sendRawTransaction", raw)["result"] for raw in transactions]

    # Bad input changes nothing: a transaction of another chain, attributes not after the head.
    refused = a.public("eth_sendRawTransaction", raw_hex(dynamic(3, 0, chain_id=1)))
    assert refused["error"]["code"] == -32000 and "chain id" in refused["error"]["message"]
    assert a.public("eth_getTransactionCount", "0x" + ADDRESSES[3].hex(), "pending")["result"] == "0x0"
    with pytest.raises(RpcFailure) as bad:
        a.build(genesis["hash"], 0, "0x" + "22" * 20)
    assert bad.value.code == -38003
    assert a.head()["hash"] == genesis["hash"]

    built = a.build(genesis["hash"], 12, "0x" + "22" * 20)
    payload = built["executionPayload"]
    assert payload["transactions"] == transactions[::-1]  # best tip first
    assert int(built["blockValue"], 16) == 21_000 * GWEI * 6
    a.take(payload)
    assert a.public("eth_getTransactionReceipt", sent[0])["result"]["status"] == "0x1"
    # newPayloadV5 (the BAL path) executed it on the flat state of its parent, the head.
    assert f"hash={payload['blockHash']} status=VALID txs=3 gas=63000 reads=flat-state" in a.node.log()

    b.take(payload)
    assert b.head()["hash"] == a.head()["hash"] == payload["blockHash"]
    assert b.head()["stateRoot"] == a.head()["stateRoot"]

    # A sibling: b builds its own block 1 on genesis (its pool is empty), a follows it there and back.
    sibling = b.build(genesis["hash"], 12, "0x" + "55" * 20)["executionPayload"]
    assert sibling["blockHash"] != payload["blockHash"] and sibling["transactions"] == []
    a.take(sibling)
    me = "0x" + ADDRESSES[0].hex()
    assert a.head()["hash"] == sibling["blockHash"]
    assert a.public("eth_getTransactionCount", me, "latest")["result"] == "0x0"
    assert int(a.public("eth_getBalance", me, "latest")["result"], 16) == DEV_BALANCE
    moved = a.node.rpc("engine_forkchoiceUpdatedV4", state(payload["blockHash"]), None)
    assert moved["payloadStatus"]["status"] == "VALID"
    assert a.public("eth_getTransactionCount", me, "latest")["result"] == "0x1"

    # Block 2 on a, fed to b: both still agree.
    a.public("eth_sendRawTransaction", raw_hex(dynamic(0, 1)))
    second = a.build(payload["blockHash"], 24, "0x" + "22" * 20)["executionPayload"]
    assert len(second["transactions"]) == 1
    a.take(second)
    b.take(second)
    assert b.head()["stateRoot"] == a.head()["stateRoot"] and b.head()["number"] == "0x2"


def test_logs_of_built_blocks_on_both_ports_and_the_follower(producers: tuple[Producer, Producer]) -> None:
    """A token deployed and used through the pool; eth_getLogs finds its Transfer logs on both nodes."""
    a, b = producers
    deployer = 3
    nonce = int(
        a.public("eth_getTransactionCount", "0x" + ADDRESSES[deployer].hex(), "pending")["result"], 16
    )
    token = generate_contract_address(ADDRESSES[deployer], nonce)
    deploy = dynamic(
        deployer, nonce, to=CREATE_CONTRACT_ADDRESS, gas=300_000, value=0, data=token_initcode(10**9)
    )
    transfers = [
        dynamic(
            deployer,
            nonce + 1 + i,
            to=token,
            gas=100_000,
            value=0,
            data=call_data(TRANSFER, ADDRESSES[i], i + 1),
        )
        for i in range(2)
    ]
    for transaction in (deploy, *transfers):
        assert "result" in a.public("eth_sendRawTransaction", raw_hex(transaction))
    head = a.head()
    built = a.build(head["hash"], int(head["timestamp"], 16) + 12, "0x" + "22" * 20)["executionPayload"]
    assert len(built["transactions"]) == 3
    a.take(built)
    b.take(built)
    number = built["blockNumber"]
    query = {
        "fromBlock": number,
        "toBlock": "latest",
        "address": "0x" + token.hex(),
        "topics": [_TRANSFER_HEX],
    }
    logs = a.public("eth_getLogs", query)["result"]
    assert [int(log["data"], 16) for log in logs] == [1, 2]
    assert [log["logIndex"] for log in logs] == ["0x0", "0x1"]  # the deployment logs nothing
    assert {log["blockHash"] for log in logs} == {built["blockHash"]}
    assert logs[1]["transactionHash"] == "0x" + transfers[1].hash.hex()
    # The Engine API port serves it too (JWT), and the node fed the payload has the same logs.
    assert a.node.rpc("eth_getLogs", query) == logs == b.node.rpc("eth_getLogs", query)
    by_hash = a.public(
        "eth_getLogs", {"blockHash": built["blockHash"], "topics": [None, None, _topic(ADDRESSES[0])]}
    )
    assert by_hash["result"] == logs[:1]
    refused = a.public("eth_getLogs", {"blockHash": built["blockHash"], "fromBlock": "0x0"})["error"]
    assert refused["code"] == -32602
    assert (
        a.public("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(int(number, 16) + 5)})["error"]["code"]
        == -32602
    )


def _topic(address: bytes) -> str:
    return "0x" + address.rjust(32, b"\x00").hex()


def test_dev_chain_sends_exports_and_imports(tmp_path: Path) -> None:
    out = tmp_path / "exported"
    dev = DevChain(tmp_path)
    try:
        banner = dev.start()
        assert "0xE287CFB445b2285E42501365DcEa47110D9B0dfF" in banner and "key 0x" in banner
        command = ["dev", "tx", "--from", "2", "--to", RECIPIENT, "--value", "12345", "--rpc", dev.rpc_url]
        sent = subprocess.run(
            [str(BALREX), *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        receipt = json.loads(sent.stdout)
        assert receipt["status"] == "0x1" and receipt["to"] == RECIPIENT
        assert int(dev.rpc("eth_getBalance", RECIPIENT, "latest"), 16) == 12345
        time.sleep(2)  # one more block after the transaction's
        dev.stop()
    finally:
        dev.kill()
    exported = subprocess.run(
        [str(BALREX), "export", str(dev.datadir), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    metadata = json.loads((out / "chain.json").read_text())
    assert metadata["blocks"] >= int(receipt["blockNumber"], 16) and metadata["txs"] == 1
    assert metadata["first_bal_block"] == 1 and metadata["fork"] == "amsterdam"
    imported = subprocess.run(
        [str(BALREX), "import-bench", str(out), "--with-bal", "--workers", "1", "--no-parallel"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
