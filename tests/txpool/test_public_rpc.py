"""The eth_ methods against a real node started as users start it (``balrex node --http``).

A genesis with the dev accounts and one contract (returns 42, reverts on any
calldata) is the chain; transactions are signed with the dev keys.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from wallet import ADDRESSES, GWEI, dynamic, legacy, raw_hex

from client.dev_genesis import CHAIN_ID, DEV_BALANCE, dev_genesis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine_api"))
from engine_harness import Node, RpcFailure, free_port  # noqa: E402

pytestmark = pytest.mark.integration

CONTRACT = "0x" + "c0" * 20
# CALLDATASIZE ISZERO PUSH1 8 JUMPI; PUSH0 PUSH0 REVERT; JUMPDEST PUSH1 42 PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
CONTRACT_CODE = "0x3615600857" + "5f5ffd" + "5b602a5f5260205ff3"


class PublicNode:
    def __init__(self, node: Node, port: int) -> None:
        self.node = node
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(timeout=120)

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        response = self.client.post(self.url, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.call(method, *params)
        if "error" in answer:
            raise RpcFailure(answer["error"])
        return answer["result"]

    def refusal(self, method: str, *params: Any) -> tuple[int, str]:
        error = self.call(method, *params)["error"]
        return error["code"], error["message"]


@pytest.fixture
def public(tmp_path: Path) -> Any:
    genesis = dev_genesis()
    genesis["alloc"][CONTRACT] = {"balance": "0x0", "code": CONTRACT_CODE}
    port = free_port()
    node = Node(tmp_path / "node", genesis, ("--http", "--http.port", str(port), "--txpool.max", "4"))
    node.start()
    yield PublicNode(node, port)
    node.kill()


def test_reads_and_calls(public: PublicNode) -> None:
    me = "0x" + ADDRESSES[0].hex()
    assert int(public.rpc("eth_getBalance", me, "latest"), 16) == DEV_BALANCE
    assert public.rpc("eth_getTransactionCount", me, "latest") == "0x0"
    assert public.rpc("eth_getCode", CONTRACT, "latest") == CONTRACT_CODE
    assert public.rpc("eth_getStorageAt", CONTRACT, "0x0", "latest") == "0x" + "00" * 32
    genesis_hash = public.rpc("eth_getBlockByNumber", "0x0", False)["hash"]
    assert int(public.rpc("eth_getBalance", me, {"blockHash": genesis_hash}), 16) == DEV_BALANCE
    # Whitespace in place of the last digit pair is no hash (bytes.fromhex alone would read 31 bytes).
    assert public.refusal("eth_getBalance", me, {"blockHash": genesis_hash[:-2] + "  "})[0] == -32602
    assert int(public.rpc("eth_call", {"to": CONTRACT}, "latest"), 16) == 42
    code, _ = public.refusal("eth_call", {"to": CONTRACT, "data": "0x01"}, "latest")
    assert code == 3  # execution reverted
    estimate = int(public.rpc("eth_estimateGas", {"from": me, "to": CONTRACT}), 16)
    assert 21_000 < estimate < 30_000
    assert public.rpc("net_version") == str(CHAIN_ID)
    assert public.rpc("eth_syncing") is False
    assert public.rpc("web3_clientVersion").startswith("balrex/v")
    base_fee = int(public.rpc("eth_feeHistory", "0x1", "latest", [50])["baseFeePerGas"][-1], 16)
    assert int(public.rpc("eth_gasPrice"), 16) == base_fee + GWEI
    # No engine_ method on the public port, no JWT asked.
    assert public.refusal("engine_exchangeCapabilities", [])[0] == -32601


def test_pool_answers(public: PublicNode) -> None:
    me = "0x" + ADDRESSES[0].hex()
    first = dynamic(0, 0, tip=2 * GWEI)
    tx_hash = public.rpc("eth_sendRawTransaction", raw_hex(first))
    assert tx_hash == "0x" + first.hash.hex()
    assert public.refusal("eth_sendRawTransaction", raw_hex(first)) == (-32000, "already known")
    code, message = public.refusal("eth_sendRawTransaction", raw_hex(dynamic(0, 0, tip=2 * GWEI + 1)))
    assert (code, message.split(":")[0]) == (-32000, "replacement transaction underpriced")
    code, message = public.refusal("eth_sendRawTransaction", raw_hex(dynamic(0, 1, value=DEV_BALANCE)))
    assert message.startswith("insufficient funds for gas * price + value")
    code, message = public.refusal("eth_sendRawTransaction", raw_hex(dynamic(0, 1, chain_id=CHAIN_ID + 1)))
    assert message.startswith("invalid chain id")
    assert public.refusal("eth_sendRawTransaction", "0x02c0")[0] == -32602
    public.rpc("eth_sendRawTransaction", raw_hex(legacy(0, 1)))
    assert public.rpc("eth_getTransactionCount", me, "pending") == "0x2"
    assert public.rpc("eth_getTransactionCount", me, "latest") == "0x0"
    pending = public.rpc("eth_getTransactionByHash", tx_hash)
    assert pending["blockHash"] is None and pending["from"] == me.lower() and pending["nonce"] == "0x0"
    assert public.rpc("eth_getTransactionReceipt", tx_hash) is None
    # --txpool.max 4: two more fill it; a fifth at a lower tip is refused, at a higher one evicts.
    public.rpc("eth_sendRawTransaction", raw_hex(dynamic(1, 0, tip=3 * GWEI)))
    public.rpc("eth_sendRawTransaction", raw_hex(dynamic(2, 0, tip=3 * GWEI)))
    code, message = public.refusal("eth_sendRawTransaction", raw_hex(dynamic(3, 0, tip=GWEI)))
    assert message.startswith("transaction underpriced")
    public.rpc("eth_sendRawTransaction", raw_hex(dynamic(3, 0, tip=5 * GWEI)))
    # The cheapest left is account 0's nonce 0 (its nonce 1 went first): a better tip evicts it.
    public.rpc("eth_sendRawTransaction", raw_hex(dynamic(3, 1, tip=6 * GWEI)))
    assert public.rpc("eth_getTransactionByHash", tx_hash) is None
    assert public.rpc("eth_getTransactionCount", me, "pending") == "0x0"


def test_engine_port_serves_the_common_subset(public: PublicNode) -> None:
    node = public.node
    assert node.rpc("eth_chainId") == hex(CHAIN_ID)
    assert int(node.rpc("eth_call", {"to": CONTRACT}, "latest"), 16) == 42
    assert node.rpc("eth_getCode", CONTRACT, "latest") == CONTRACT_CODE
    assert node.rpc("eth_syncing") is False
    with pytest.raises(RpcFailure) as refused:
        node.rpc("eth_getBalance", CONTRACT, "latest")
    assert refused.value.code == -32601
