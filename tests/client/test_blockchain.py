"""client/blockchain.py: import on our store, rejection without a trace, side branches via the tries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import rlp
from eth_hash.auto import keccak

import client.blockchain as blockchain_module
from client.blockchain import Blockchain, UnknownBlock
from client.chain_config import config_from_fixture
from client.chaindb import decode_header
from client.genesis import parse_hex_bytes
from pipeline import import_block_sync
from pipeline.verdicts import BlockRejected, UnknownParent
from storage import MemoryStore, Space, Store

# Header field positions in the block RLP.
PARENT_HASH, STATE_ROOT, RECEIPTS_ROOT, GAS_USED, EXTRA_DATA = 0, 3, 5, 10, 12


def dump(store: Store) -> dict[bytes, bytes]:
    return {space.value + k: v for space in Space for k, v in store.iterate(space)}


def new_chain(test: dict[str, Any]) -> tuple[Blockchain, MemoryStore]:
    store = MemoryStore()
    chain = Blockchain(store, config_from_fixture(test["network"], test["config"]))
    chain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
    return chain, store


def block_rlp(test: dict[str, Any], index: int) -> bytes:
    return parse_hex_bytes(test["blocks"][index]["rlp"])


def edit_header(raw: bytes, edit: Callable[[list[Any]], None]) -> bytes:
    items = rlp.decode(raw)
    edit(items[0])
    return rlp.encode(items)


def test_valid_blocks_import_and_fork_choice_moves_the_head(cancun_blob_test: dict[str, Any]) -> None:
    chain, store = new_chain(cancun_blob_test)
    genesis = chain.chain.head_hash()
    for i in range(len(cancun_blob_test["blocks"])):
        imported = import_block_sync(chain, block_rlp(cancun_blob_test, i))
        assert chain.chain.head_hash() != imported.block_hash, "importing alone must not move the head"
        assert imported.state_root == decode_header(chain.chain.header_rlp(imported.block_hash)).state_root
        chain.set_forkchoice(imported.block_hash, safe=genesis)
        assert chain.chain.head_hash() == imported.block_hash
        assert chain.chain.canonical_hash(imported.number) == imported.block_hash
    assert chain.chain.head_hash() == parse_hex_bytes(cancun_blob_test["lastblockhash"])
    assert chain.chain.pointer("safe") == genesis


def test_fork_choice_switches_the_canonical_chain(cancun_blob_test: dict[str, Any]) -> None:
    chain, store = new_chain(cancun_blob_test)
    first = import_block_sync(chain, block_rlp(cancun_blob_test, 0)).block_hash
    second = import_block_sync(chain, block_rlp(cancun_blob_test, 1)).block_hash
    chain.set_forkchoice(second)
    sibling = edit_header(block_rlp(cancun_blob_test, 0), lambda h: h.__setitem__(EXTRA_DATA, b"side"))
    side = import_block_sync(chain, sibling).block_hash
    chain.set_forkchoice(side)
    assert chain.chain.head_hash() == side
    assert chain.chain.canonical_hash(1) == side and chain.chain.canonical_hash(2) is None
    chain.set_forkchoice(second)
    assert [chain.chain.canonical_hash(n) for n in (1, 2)] == [first, second]
    before = dump(store)
    with pytest.raises(UnknownBlock):
        chain.set_forkchoice(second, finalized=b"\x33" * 32)
    assert dump(store) == before


@pytest.mark.parametrize(
    ("field", "rule"),
    [
        (STATE_ROOT, "state-root-mismatch"),
        (RECEIPTS_ROOT, "receipts-root-mismatch"),
    ],
)
def test_a_wrong_commitment_is_rejected_and_nothing_is_stored(
    cancun_blob_test: dict[str, Any], field: int, rule: str
) -> None:
    chain, store = new_chain(cancun_blob_test)
    before = dump(store)
    tampered = edit_header(block_rlp(cancun_blob_test, 0), lambda h: h.__setitem__(field, b"\x11" * 32))
    with pytest.raises(BlockRejected) as rejected:
        import_block_sync(chain, tampered)
    assert rejected.value.rule == rule
    assert dump(store) == before


def test_wrong_gas_used_is_rejected(cancun_blob_test: dict[str, Any]) -> None:
    chain, store = new_chain(cancun_blob_test)
    before = dump(store)
    def add_one_gas(header: list[Any]) -> None:
        gas = int.from_bytes(header[GAS_USED], "big") + 1
        header[GAS_USED] = gas.to_bytes((gas.bit_length() + 7) // 8, "big")

    tampered = edit_header(block_rlp(cancun_blob_test, 0), add_one_gas)
    with pytest.raises(BlockRejected, match="gas"):
        import_block_sync(chain, tampered)
    assert dump(store) == before


def test_unknown_parent_and_garbage(cancun_blob_test: dict[str, Any]) -> None:
    chain, store = new_chain(cancun_blob_test)
    before = dump(store)
    orphan = edit_header(block_rlp(cancun_blob_test, 1), lambda h: h.__setitem__(PARENT_HASH, b"\x22" * 32))
    with pytest.raises(UnknownParent):
        import_block_sync(chain, orphan)
    with pytest.raises(BlockRejected) as rejected:
        import_block_sync(chain, b"\xf9\xff\xff")
    assert rejected.value.rule == "malformed-block"
    assert dump(store) == before


def test_a_side_branch_imports_through_the_tries_and_leaves_the_head(
    cancun_blob_test: dict[str, Any],
) -> None:
    """Main chain: blocks 1, 2 (head). Side branch: 1' (block 1 with other extra data), then 2' on 1'.

    When 2' arrives the flat state holds the state after block 2, not after
    1', so 2' only reaches the fixture's root if its execution reads its
    parent's state through the tries.
    """
    chain, store = new_chain(cancun_blob_test)
    import_block_sync(chain, block_rlp(cancun_blob_test, 0))
    head = import_block_sync(chain, block_rlp(cancun_blob_test, 1)).block_hash
    chain.set_forkchoice(head)
    flat_before = dict(store.iterate(Space.ACCOUNT)), dict(store.iterate(Space.STORAGE))

    sibling = edit_header(block_rlp(cancun_blob_test, 0), lambda h: h.__setitem__(EXTRA_DATA, b"side"))
    sibling_hash = import_block_sync(chain, sibling).block_hash
    child = edit_header(block_rlp(cancun_blob_test, 1), lambda h: h.__setitem__(PARENT_HASH, sibling_hash))
    imported = import_block_sync(chain, child)

    assert imported.block_hash == keccak(rlp.encode(rlp.decode(child)[0]))
    assert imported.state_root == parse_hex_bytes(cancun_blob_test["blocks"][1]["blockHeader"]["stateRoot"])
    assert chain.chain.head_hash() == head, "a side branch must not move the head"
    assert (dict(store.iterate(Space.ACCOUNT)), dict(store.iterate(Space.STORAGE))) == flat_before


def test_outline_then_prepare_read_the_block_once(
    cancun_blob_test: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The BAL path's outline and prepare share one split of the same block; another block is read anew."""
    chain, _ = new_chain(cancun_blob_test)
    splits: list[bytes] = []
    split = blockchain_module.split_block

    def counting_split(raw: bytes) -> Any:
        splits.append(raw)
        return split(raw)

    monkeypatch.setattr(blockchain_module, "split_block", counting_split)
    first = block_rlp(cancun_blob_test, 0)
    outline = chain.outline(first)
    prepared = chain.prepare(first, None)
    assert outline is not None and outline.parent_state_root == prepared.parent.state_root
    assert splits == [first]
    copy = bytes(bytearray(first))  # equal bytes, another object: read again, same answer
    assert chain.prepare(copy, None).encoded == prepared.encoded and splits == [first, copy]


def test_a_stored_header_is_decoded_once_and_a_missing_one_stays_missing(
    cancun_blob_test: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fork choice and the next block's prepare read the same headers: each is decoded once from the store."""
    decoded: list[bytes] = []

    def counting_decode(raw: bytes) -> Any:
        decoded.append(raw)
        return decode_header(raw)

    monkeypatch.setattr(blockchain_module, "decode_header", counting_decode)
    chain, _ = new_chain(cancun_blob_test)
    imported = import_block_sync(chain, block_rlp(cancun_blob_test, 0))
    child = import_block_sync(chain, block_rlp(cancun_blob_test, 1))  # its prepare reads its parent's
    header_rlp = chain.chain.header_rlp(imported.block_hash)
    assert header_rlp is not None
    decodes = decoded.count(header_rlp)
    chain.set_forkchoice(child.block_hash)
    header = chain.header(imported.block_hash)
    assert header is not None and header.state_root == imported.state_root
    assert chain.header(imported.block_hash) is header
    assert decoded.count(header_rlp) == decodes  # fork choice and these reads decoded nothing again
    assert chain.header(b"\x00" * 32) is None  # not stored: nothing is kept for it
    # A full cache starts over: reading a header not read yet drops the block's, decoded again when read.
    grandchild = import_block_sync(chain, block_rlp(cancun_blob_test, 2))
    monkeypatch.setattr(blockchain_module, "HEADER_CACHE_SIZE", 1)
    assert chain.header(grandchild.block_hash) is not None
    assert chain.header(imported.block_hash) == header
    assert decoded.count(header_rlp) == decodes + 1


def test_trie_nodes_are_kept_across_blocks_and_dropped_past_the_limit(
    cancun_blob_test: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The streaming merkleizer's decoded nodes outlive a block, up to ``NODE_CACHE_LIMIT`` of them."""
    chain, _ = new_chain(cancun_blob_test)
    imported = import_block_sync(chain, block_rlp(cancun_blob_test, 0))
    kept = chain.trie_nodes()
    assert imported.state_root in kept  # the block's new root node, decoded, for its child's walk
    import_block_sync(chain, block_rlp(cancun_blob_test, 1))
    assert chain.trie_nodes() is kept and imported.state_root in kept
    monkeypatch.setattr(blockchain_module, "NODE_CACHE_LIMIT", len(kept) - 1)
    assert chain.trie_nodes() == {}
