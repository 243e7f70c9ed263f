"""``eth_getLogs`` on a chain of token transfers built in process: ranges, tags, blockHash, limits."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from eth._utils.address import generate_contract_address
from eth.constants import CREATE_CONTRACT_ADDRESS
from wallet import ADDRESSES, dynamic

from client.dev_genesis import dev_genesis
from client.tools.bench_chain.builder import ChainBuilder
from client.tools.bench_chain.contracts import (
    APPROVAL_TOPIC,
    APPROVE,
    TRANSFER,
    TRANSFER_TOPIC,
    call_data,
    token_initcode,
)
from engine_api.errors import INVALID_PARAMS, LIMIT_EXCEEDED, RpcError
from engine_api.eth_logs import EthLogMethods, FilterParams, LogQueryLimits
from engine_api.methods import EngineApi
from engine_api.models import WIRE

TOKEN = generate_contract_address(ADDRESSES[0], 0)
TRANSFER_HEX = "0x" + TRANSFER_TOPIC.to_bytes(32, "big").hex()
DEFAULTS = LogQueryLimits()
APPROVAL_HEX = "0x" + APPROVAL_TOPIC.to_bytes(32, "big").hex()


def _topic(address: bytes) -> str:
    return "0x" + address.rjust(32, b"\x00").hex()


@pytest.fixture(scope="module")
def chain() -> ChainBuilder:
    """Block 1 deploys a token; 2: two transfers and an approval; 3: one transfer; 4: no log."""
    builder = ChainBuilder(dev_genesis(), b"logs")
    builder.build(
        [dynamic(0, 0, to=CREATE_CONTRACT_ADDRESS, gas=300_000, value=0, data=token_initcode(10**24))]
    )
    token_call = {"to": TOKEN, "gas": 100_000, "value": 0}
    builder.build(
        [
            dynamic(0, 1, data=call_data(TRANSFER, ADDRESSES[1], 5), **token_call),
            dynamic(0, 2, data=call_data(APPROVE, ADDRESSES[2], 7), **token_call),
            dynamic(0, 3, data=call_data(TRANSFER, ADDRESSES[2], 9), **token_call),
        ]
    )
    builder.build([dynamic(0, 4, data=call_data(TRANSFER, ADDRESSES[3], 11), **token_call)])
    builder.build([dynamic(1, 0, value=0)])  # no value: no EIP-7708 transfer log either
    return builder


def _get_logs(chain: ChainBuilder, query: dict[str, Any], limits: LogQueryLimits = DEFAULTS) -> Any:
    api = EngineApi(chain.blockchain)
    methods = EthLogMethods(api.eth, limits)
    return trio.run(methods.get_logs, FilterParams.model_validate(query, context=WIRE))


def test_range_defaults_and_log_shape(chain: ChainBuilder) -> None:
    logs = _get_logs(chain, {"fromBlock": "0x0", "toBlock": "latest"})
    assert [(log["blockNumber"], log["transactionIndex"], log["logIndex"]) for log in logs] == [
        ("0x2", "0x0", "0x0"),
        ("0x2", "0x1", "0x1"),
        ("0x2", "0x2", "0x2"),
        ("0x3", "0x0", "0x0"),
    ]
    first = logs[0]
    block_2 = chain.blockchain.header(chain.blockchain.chain.canonical_hash(2))
    assert block_2 is not None
    assert first["address"] == "0x" + TOKEN.hex() and first["removed"] is False
    assert first["topics"] == [TRANSFER_HEX, _topic(ADDRESSES[0]), _topic(ADDRESSES[1])]
    assert int(first["data"], 16) == 5
    assert first["blockHash"] == "0x" + block_2.hash.hex()
    assert first["blockTimestamp"] == hex(block_2.timestamp)
    assert set(first) == {
        "address", "topics", "data", "blockNumber", "blockHash", "blockTimestamp",
        "transactionHash", "transactionIndex", "logIndex", "removed",
    }  # fmt: skip
    # No bounds: latest to latest (block 4 has no logs).
    assert _get_logs(chain, {}) == []
    assert _get_logs(chain, {"fromBlock": "0x3", "toBlock": "0x3"}) == logs[3:]


def test_address_and_topic_selection(chain: ChainBuilder) -> None:
    everything = {"fromBlock": "earliest", "toBlock": "latest"}
    approvals = _get_logs(chain, {**everything, "topics": [APPROVAL_HEX]})
    assert [int(log["data"], 16) for log in approvals] == [7]
    to_two_or_three = _get_logs(
        chain, {**everything, "topics": [TRANSFER_HEX, None, [_topic(ADDRESSES[2]), _topic(ADDRESSES[3])]]}
    )
    assert [int(log["data"], 16) for log in to_two_or_three] == [9, 11]
    assert len(_get_logs(chain, {**everything, "address": ["0x" + TOKEN.hex(), "0x" + "00" * 20]})) == 4
    assert _get_logs(chain, {**everything, "address": "0x" + "00" * 20}) == []


def test_block_hash_filter(chain: ChainBuilder) -> None:
    block_3 = chain.blockchain.chain.canonical_hash(3)
    assert block_3 is not None
    logs = _get_logs(chain, {"blockHash": "0x" + block_3.hex()})
    assert [int(log["data"], 16) for log in logs] == [11]
    with pytest.raises(RpcError) as both:
        _get_logs(chain, {"blockHash": "0x" + block_3.hex(), "fromBlock": "0x1"})
    assert both.value.code == INVALID_PARAMS
    with pytest.raises(RpcError) as unknown:
        _get_logs(chain, {"blockHash": "0x" + "ee" * 32})
    assert unknown.value.message == "unknown block"


def test_ranges_past_the_head_and_reversed_are_refused(chain: ChainBuilder) -> None:
    with pytest.raises(RpcError) as future:
        _get_logs(chain, {"fromBlock": "0x1", "toBlock": "0x9"})
    assert (future.value.code, future.value.message) == (
        INVALID_PARAMS,
        "block range extends beyond current head block",
    )
    with pytest.raises(RpcError) as reversed_range:
        _get_logs(chain, {"fromBlock": "0x3", "toBlock": "0x2"})
    assert reversed_range.value.message == "invalid block range params"
    with pytest.raises(RpcError) as five_positions:
        _get_logs(chain, {"topics": [None] * 5})
    assert five_positions.value.code == INVALID_PARAMS


def test_limits_are_clear_errors(chain: ChainBuilder) -> None:
    everything = {"fromBlock": "0x0", "toBlock": "0x4"}
    with pytest.raises(RpcError) as wide:
        _get_logs(chain, everything, LogQueryLimits(max_block_range=4))
    assert (wide.value.code, wide.value.message) == (LIMIT_EXCEEDED, "exceed maximum block range: 4")
    with pytest.raises(RpcError) as many:
        _get_logs(chain, everything, LogQueryLimits(max_results=3))
    assert (many.value.code, many.value.message) == (LIMIT_EXCEEDED, "query returned more than 3 results")
    assert len(_get_logs(chain, everything, LogQueryLimits(max_block_range=5, max_results=4))) == 4
