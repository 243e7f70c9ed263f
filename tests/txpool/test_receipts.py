"""Receipts and lookups by hash of a mined transaction, through the tx index written with its block."""

from __future__ import annotations

import trio
from wallet import ADDRESSES, GWEI, dynamic

from client.dev_genesis import dev_genesis
from client.tools.bench_chain.builder import ChainBuilder
from engine_api.methods import EngineApi


def test_receipt_and_lookup_of_a_mined_transaction() -> None:
    chain = ChainBuilder(dev_genesis(), b"receipts")
    first, second = dynamic(0, 0, tip=2 * GWEI), dynamic(1, 0, tip=GWEI)
    built = chain.build([first, second])
    api = EngineApi(chain.blockchain)
    assert chain.blockchain.chain.transaction_location(second.hash) == (built.header.hash, 1)
    methods = api.public_dispatcher().methods

    async def ask(name: str, *params: object) -> object:
        return await methods[name].handler(*params)

    receipt = trio.run(ask, "eth_getTransactionReceipt", second.hash)
    assert isinstance(receipt, dict)
    assert receipt["transactionIndex"] == "0x1" and receipt["status"] == "0x1"
    assert receipt["from"] == "0x" + ADDRESSES[1].hex()
    assert int(receipt["gasUsed"], 16) == 21_000 and int(receipt["cumulativeGasUsed"], 16) == 42_000
    assert int(receipt["effectiveGasPrice"], 16) == built.header.base_fee_per_gas + GWEI
    mined = trio.run(ask, "eth_getTransactionByHash", first.hash)
    assert isinstance(mined, dict) and mined["blockHash"] == "0x" + built.header.hash.hex()
    receipts = trio.run(ask, "eth_getBlockReceipts", "latest")
    assert isinstance(receipts, list) and [r["transactionHash"] for r in receipts] == [
        "0x" + first.hash.hex(),
        "0x" + second.hash.hex(),
    ]
