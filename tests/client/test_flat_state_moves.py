"""The flat state follows fork choice: siblings and side branches never move it; reorgs undo and re-apply.

Two branches grow from one genesis (the bench chain's world, Prague): A with
three blocks and B with two, their transactions drawn with different seeds, so
every block changes the state differently. A reference chain imports each
branch alone; after every fork-choice move of the chain under test its flat
state (accounts and storage) must be the reference's at the same head, key
for key.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import client.flat_state_moves
from client.blockchain import Blockchain
from client.chain_config import config_from_geth_genesis
from client.genesis import build_genesis
from client.tools.bench_chain.bench_genesis import bench_genesis
from client.tools.bench_chain.builder import ChainBuilder
from client.tools.bench_chain.mix import Mix
from client.tools.bench_chain.world import World
from pipeline import import_block_sync
from storage import FLAT_STATE_BLOCK, FlatChanges, FlatStateEditor, MemoryStore, Space, WriteBatch

pytestmark = pytest.mark.slow  # generates two branches with the bench-chain builder

WORLD_SEED, ACCOUNTS, TXS = 11, 200, 12


def _genesis() -> dict[str, Any]:
    return bench_genesis(World.create(WORLD_SEED, ACCOUNTS), "prague")


def _branch(mix_seed: int, blocks: int) -> list[bytes]:
    world = World.create(WORLD_SEED, ACCOUNTS)
    builder = ChainBuilder(bench_genesis(world, "prague"), randomness=mix_seed.to_bytes(32, "big"))
    mix = Mix(world, random.Random(mix_seed), builder.config.chain_id, 0, builder.tx_builder())
    return [
        builder.build([tx for _, tx in mix.block(TXS, builder.next_base_fee())]).rlp for _ in range(blocks)
    ]


@pytest.fixture(scope="module")
def branches() -> dict[str, list[bytes]]:
    return {"a": _branch(1, 3), "b": _branch(2, 2)}


def _new_chain() -> Blockchain:
    genesis = build_genesis(_genesis())
    chain = Blockchain(MemoryStore(), config_from_geth_genesis(_genesis()["config"]))
    chain.init_genesis_state(genesis.state, genesis.block_rlp)
    return chain


def _flat(chain: Blockchain) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    return dict(chain.store.iterate(Space.ACCOUNT)), dict(chain.store.iterate(Space.STORAGE))


@pytest.fixture(scope="module")
def reference(branches: dict[str, list[bytes]]) -> dict[bytes, tuple[dict[bytes, bytes], dict[bytes, bytes]]]:
    """Block hash -> the flat state after it, from chains that import one branch in order."""
    flats = {}
    for blocks in branches.values():
        chain = _new_chain()
        for block_rlp in blocks:
            imported = import_block_sync(chain, block_rlp)
            chain.set_forkchoice(imported.block_hash)
            flats[imported.block_hash] = _flat(chain)
    return flats


def test_siblings_and_side_branches_leave_the_flat_state_on_the_head_and_reorgs_move_it(
    branches: dict[str, list[bytes]], reference: dict[bytes, Any]
) -> None:
    chain = _new_chain()
    a1 = import_block_sync(chain, branches["a"][0]).block_hash
    chain.set_forkchoice(a1)
    b1 = import_block_sync(chain, branches["b"][0]).block_hash  # a sibling of the next block
    assert chain.chain.pointer(FLAT_STATE_BLOCK) == a1 and _flat(chain) == reference[a1]
    a2_prepared = chain.prepare(branches["a"][1], None)
    assert a2_prepared.parent_has_flat_state, "the canonical child still executes on the flat state"
    a2 = import_block_sync(chain, branches["a"][1]).block_hash
    chain.set_forkchoice(a2)
    assert _flat(chain) == reference[a2]

    b2 = import_block_sync(chain, branches["b"][1]).block_hash  # executes through the tries
    assert chain.chain.pointer(FLAT_STATE_BLOCK) == a2
    chain.set_forkchoice(b2)  # reorg: undo a2, a1; apply b1, b2
    assert chain.chain.pointer(FLAT_STATE_BLOCK) == b2 and _flat(chain) == reference[b2]
    assert chain.chain.canonical_hash(1) == b1
    chain.set_forkchoice(a2)  # and back
    assert _flat(chain) == reference[a2]
    a3 = import_block_sync(chain, branches["a"][2])
    assert a3.timings.spans and chain.prepare(branches["a"][2], None).parent_has_flat_state
    chain.set_forkchoice(a3.block_hash)
    assert _flat(chain) == reference[a3.block_hash]
    chain.set_forkchoice(a1)  # back within the same branch: undo a3, a2
    assert _flat(chain) == reference[a1]


def test_a_reorg_deeper_than_the_kept_undos_rebuilds_the_flat_state(
    branches: dict[str, list[bytes]], reference: dict[bytes, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.flat_state_moves, "UNDO_DEPTH", 1)
    chain = _new_chain()
    for block_rlp in branches["a"]:
        chain.set_forkchoice(import_block_sync(chain, block_rlp).block_hash)
    kept_undos = dict(chain.store.iterate(Space.FLAT_UNDO))
    assert len(kept_undos) == 1, "only the last block's undo is kept"
    hashes = [import_block_sync(chain, block_rlp).block_hash for block_rlp in branches["b"]]
    chain.set_forkchoice(hashes[-1])  # needs a1's and a2's undos: gone, so rebuilt from genesis
    assert _flat(chain) == reference[hashes[-1]]
    assert len(dict(chain.store.iterate(Space.FLAT_UNDO))) == 1


def test_fork_choice_applies_the_block_just_imported_without_reading_its_changes_back(
    branches: dict[str, list[bytes]], reference: dict[bytes, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _new_chain()
    chain.set_forkchoice(chain.chain.head_hash())  # the genesis' own changes, stored and kept
    imported = import_block_sync(chain, branches["a"][0]).block_hash

    def stored_changes_read(raw: bytes) -> FlatChanges:
        raise AssertionError("the changes just committed were read back from the store")

    monkeypatch.setattr(client.flat_state_moves.FlatChanges, "decode", stored_changes_read)
    chain.set_forkchoice(imported)
    assert _flat(chain) == reference[imported]


def test_changes_round_trip_and_undo_restores_what_they_overwrote() -> None:
    store = MemoryStore()
    seed = WriteBatch()
    seed.put(Space.ACCOUNT, b"\x01" * 20, b"old-account")
    seed.put(Space.STORAGE, b"\x02" * 20 + b"\x00" * 32, b"\x05")
    seed.put(Space.STORAGE, b"\x02" * 20 + b"\x00" * 31 + b"\x01", b"\x06")
    store.commit(seed)
    before = {space: dict(store.iterate(space)) for space in (Space.ACCOUNT, Space.STORAGE)}
    changes = FlatChanges(
        writes=(
            (Space.ACCOUNT, b"\x01" * 20, b"new-account"),
            (Space.ACCOUNT, b"\x03" * 20, b"created"),
            (Space.STORAGE, b"\x02" * 20 + b"\x00" * 31 + b"\x07", b"\x09"),
        ),
        cleared=(b"\x02" * 20,),
    )
    assert FlatChanges.decode(changes.encoding) == changes
    batch = WriteBatch()
    undo = FlatChanges.decode(FlatStateEditor(store, batch).apply(changes))
    store.commit(batch)
    assert dict(store.iterate(Space.STORAGE)) == {b"\x02" * 20 + b"\x00" * 31 + b"\x07": b"\x09"}
    assert store.get(Space.ACCOUNT, b"\x03" * 20) == b"created"
    batch = WriteBatch()
    FlatStateEditor(store, batch).undo(undo)
    store.commit(batch)
    assert {space: dict(store.iterate(space)) for space in (Space.ACCOUNT, Space.STORAGE)} == before
