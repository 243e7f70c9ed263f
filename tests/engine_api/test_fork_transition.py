"""A generated chain crossing BPO2 -> Amsterdam replayed through a real node: V4 before, V5 after.

The bench-chain generator starts the chain in BPO2 and makes block 3 the first
Amsterdam block. Each block goes to the node as the newPayload version of its
fork (V4 with empty execution requests, then V5 with its BAL), is made the head,
and the other version is refused with -38005 Unsupported fork at every block.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_harness import Node, Payload, RpcFailure

from bal import encode_bal
from client.tools.bench_chain import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain

pytestmark = pytest.mark.integration  # a real node process

UNSUPPORTED_FORK = -38005


@pytest.fixture(scope="module")
def transition_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("transition") / "chain"
    generate_chain(
        ChainSettings(fork="amsterdam", blocks=4, txs_per_block=12, seed=5, accounts=200, amsterdam_at=3), out
    )
    return out


def _other_version(method: str) -> str:
    return "engine_newPayloadV4" if method == "engine_newPayloadV5" else "engine_newPayloadV5"


def test_bpo2_to_amsterdam_replays_with_the_version_of_each_fork(
    transition_chain: Path, start_node: Callable[..., Node]
) -> None:
    chain = load_chain(transition_chain)
    node = start_node(chain.genesis)
    methods = []
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        bal_hex = None if bal is None else "0x" + encode_bal(bal).hex()
        payload = Payload("0x" + block_rlp.hex(), bal_hex)
        method, params = payload.new_payload()
        methods.append(method)
        wrong = dict(payload.payload)
        if method == "engine_newPayloadV4":  # a V5 payload has the Amsterdam fields: give it some
            wrong.update(blockAccessList="0xc0", slotNumber="0x0")
        else:  # a V4 payload has none
            del wrong["blockAccessList"], wrong["slotNumber"]
        with pytest.raises(RpcFailure) as refused:
            node.rpc(_other_version(method), wrong, *params[1:])
        assert refused.value.code == UNSUPPORTED_FORK, refused.value
        status: dict[str, Any] = node.rpc(method, *params)
        assert status["status"] == "VALID", status
        assert node.forkchoice(payload.hash_hex)["payloadStatus"]["status"] == "VALID"
    assert methods == ["engine_newPayloadV4"] * 2 + ["engine_newPayloadV5"] * 2
    assert node.head()["hash"] == chain.metadata["last_block_hash"]
    # The log line says how each block was split: BPO2 blocks run in one part; an Amsterdam
    # block of 12 transactions sends its later ones to the worker (EIP-7928 parallel execution).
    logged = re.findall(r"status=VALID txs=12 .*? later_txs=(\d+) stolen_txs=(\d+)", node.log())
    splits = [(int(later), int(stolen)) for later, stolen in logged]
    assert len(splits) == 4, node.log()[-3000:]
    assert splits[:2] == [(0, 0), (0, 0)]
    assert all(1 <= later + stolen <= 11 for later, stolen in splits[2:]), splits
