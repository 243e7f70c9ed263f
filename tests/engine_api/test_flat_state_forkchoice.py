"""The flat state follows forkchoice on a real node: a sibling first, reorgs, and a SIGKILL during one.

Two Prague branches grow from one bench-chain genesis (A: three blocks, B: three
blocks, different transactions). The node's log line for each newPayload says
whether the block read its parent state from the flat state or the tries: a
canonical block must take the flat-state path after a sibling arrived first,
and after a reorg (also one interrupted by SIGKILL and restarted).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from engine_harness import Node, Payload

from client.tools.bench_chain.bench_genesis import bench_genesis
from client.tools.bench_chain.builder import ChainBuilder
from client.tools.bench_chain.mix import Mix
from client.tools.bench_chain.world import World

pytestmark = pytest.mark.integration  # real node processes

WORLD_SEED, ACCOUNTS, TXS = 11, 200, 12


def _branch(mix_seed: int, blocks: int) -> list[Payload]:
    world = World.create(WORLD_SEED, ACCOUNTS)
    builder = ChainBuilder(bench_genesis(world, "prague"), randomness=mix_seed.to_bytes(32, "big"))
    mix = Mix(world, random.Random(mix_seed), builder.config.chain_id, 0, builder.tx_builder())
    built = [builder.build([tx for _, tx in mix.block(TXS, builder.next_base_fee())]) for _ in range(blocks)]
    return [Payload("0x" + block.rlp.hex()) for block in built]


@pytest.fixture(scope="module")
def branches() -> dict[str, list[Payload]]:
    return {"a": _branch(1, 3), "b": _branch(2, 3)}


def _genesis() -> dict[str, Any]:
    return bench_genesis(World.create(WORLD_SEED, ACCOUNTS), "prague")


def _import(node: Node, payload: Payload) -> str:
    """newPayload; the reads the node logged for it (flat-state or tries)."""
    method, params = payload.new_payload()
    status = node.rpc(method, *params)
    assert status["status"] == "VALID", status
    logged = re.findall(rf"hash={payload.hash_hex} status=VALID .*? reads=(\S+)", node.log())
    assert logged, node.log()[-2000:]
    return logged[-1]


def test_a_sibling_first_and_a_reorg_leave_canonical_blocks_on_the_flat_state(
    branches: dict[str, list[Payload]], start_node: Callable[..., Node]
) -> None:
    a, b = branches["a"], branches["b"]
    node = start_node(_genesis())
    assert _import(node, b[0]) == "flat-state"  # the sibling arrives first: its parent is genesis
    assert _import(node, a[0]) == "flat-state"  # and leaves the flat state on genesis
    node.forkchoice(a[0].hash_hex)
    assert _import(node, a[1]) == "flat-state"
    node.forkchoice(a[1].hash_hex)
    assert _import(node, b[1]) == "tries"  # a side branch reads its parent's tries
    node.forkchoice(b[1].hash_hex)  # reorg to B
    assert _import(node, b[2]) == "flat-state"
    node.forkchoice(a[1].hash_hex)  # and back to A
    assert _import(node, a[2]) == "flat-state"
    node.forkchoice(a[2].hash_hex)
    assert node.head()["hash"] == a[2].hash_hex


def test_a_sigkill_during_a_reorg_leaves_a_consistent_flat_state(
    branches: dict[str, list[Payload]], start_node: Callable[..., Node]
) -> None:
    a, b = branches["a"], branches["b"]
    node = start_node(_genesis())
    for payload in a[:2]:
        _import(node, payload)
        node.forkchoice(payload.hash_hex)
    for payload in b[:2]:
        _import(node, payload)
    reorg = threading.Thread(target=lambda: _try(node.forkchoice, b[1].hash_hex))
    reorg.start()
    node.sigkill()  # during the reorg's batch, or before or after it: the batch is atomic
    reorg.join()
    node.start()
    head = node.head()["hash"]
    assert head in (a[1].hash_hex, b[1].hash_hex)
    child = a[2] if head == a[1].hash_hex else b[2]
    assert _import(node, child) == "flat-state"  # VALID: its root came from the flat state
    node.forkchoice(child.hash_hex)
    assert node.head()["hash"] == child.hash_hex


def _try(call: Callable[[str], object], argument: str) -> None:
    try:
        call(argument)
    except Exception:  # the node was killed under the request: no answer is fine
        pass
