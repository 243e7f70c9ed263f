"""The ``merkle`` pass: every block's state root computed from its BAL alone.

For each test: load ``pre`` into a fresh store and check the genesis root and
hash; then for every block carrying a BAL, decode it, validate its structure,
check its hash against the header, synthesize deltas, merkleize them on the
parent root and compare with the header's ``stateRoot``. Valid blocks are
committed (one batch each) and become the parent of the next; a block the
fixture expects to be invalid never does. It is counted as rejected when these
BAL-only checks already reject it (by a rule that must answer the fixture's
exception, ``exception_map``), otherwise as left to execution, and the run's
summary prints both. At the end the head must be ``lastblockhash`` and
the stored state must equal ``postState``.
"""

from __future__ import annotations

from typing import Any

from exception_map import check_rejection
from outcomes import Outcomes
from post_state import assert_post_state

from bal import BalError, bal_from_json, check_hash, encode_bal, synthesize_deltas, validate_structure
from client.genesis import genesis_state, parse_hex_bytes, parse_quantity
from merkle import merkleize
from storage import Chain, FlatState, MemoryStore, StateWrites, Store, StoredBlock, WriteBatch
from storage.block_rlp import MalformedBlock, split_block


class BalOnlyReject(Exception):
    """A BAL-only check (structure, hash or root) rejected the block."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


def _bal_state_writes(store: Store, parent_root: bytes, block: dict[str, Any]) -> StateWrites:
    """Decode, validate, hash-check and merkleize a block's BAL; raise BalOnlyReject."""
    header = block["blockHeader"]
    try:
        bal = bal_from_json(block["blockAccessList"])
        validate_structure(
            bal,
            tx_count=len(block.get("transactions", [])),
            gas_limit=parse_quantity(header["gasLimit"]),
        )
        check_hash(bal, parse_hex_bytes(header["blockAccessListHash"]))
    except BalError as exc:
        raise BalOnlyReject(exc.rule, str(exc)) from None
    writes = merkleize(store, parent_root, synthesize_deltas(bal))
    expected_root = parse_hex_bytes(header["stateRoot"])
    if writes.state_root != expected_root:
        raise BalOnlyReject(
            "state-root-mismatch",
            f"BAL gives 0x{writes.state_root.hex()}, header says 0x{expected_root.hex()}",
        )
    return writes


def _commit(store: Store, writes: StateWrites, block: StoredBlock) -> None:
    batch = WriteBatch()
    writes.stage(batch, FlatState(store))
    Chain.stage_block(batch, block)
    Chain.stage_head(batch, block.block_hash, block.number)
    store.commit(batch)


def run_merkle_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    store = MemoryStore()
    genesis_header = test["genesisBlockHeader"]
    genesis = genesis_state(store, test["pre"])
    assert "0x" + genesis.state_root.hex() == genesis_header["stateRoot"], "genesis state root"
    parts = split_block(parse_hex_bytes(test["genesisRLP"]))
    assert "0x" + parts.block_hash.hex() == genesis_header["hash"], "genesis hash"
    _commit(store, genesis, StoredBlock(parts.block_hash, 0, parts.header_rlp, parts.body_rlp))
    parent_root = genesis.state_root

    for position, block in enumerate(test["blocks"]):
        where = f"block {position + 1}"
        expected = block.get("expectException")
        if expected is not None:
            _judge_invalid(store, parent_root, block, expected, outcomes)
            continue
        assert "blockAccessList" in block, f"{where}: valid block carries no BAL"
        parts = split_block(parse_hex_bytes(block["rlp"]))
        header = block["blockHeader"]
        assert "0x" + parts.block_hash.hex() == header["hash"], f"{where}: block hash"
        assert Chain(store).head_hash() == parse_hex_bytes(header["parentHash"]), (
            f"{where}: parent is not the head"
        )
        try:
            writes = _bal_state_writes(store, parent_root, block)
        except BalOnlyReject as exc:
            raise AssertionError(f"{where}: valid block rejected: {exc}") from None
        bal_rlp = encode_bal(bal_from_json(block["blockAccessList"]))
        _commit(
            store,
            writes,
            StoredBlock(parts.block_hash, parts.number, parts.header_rlp, parts.body_rlp, bal_rlp=bal_rlp),
        )
        parent_root = writes.state_root
        outcomes.valid_blocks += 1

    head = Chain(store).head_hash()
    assert head == parse_hex_bytes(test["lastblockhash"]), "head is not lastblockhash"
    assert_post_state(store, parent_root, test["postState"])


def _judge_invalid(
    store: Store, parent_root: bytes, block: dict[str, Any], expected: str, outcomes: Outcomes
) -> None:
    """Run the BAL-only checks on a block expected invalid; it never becomes a parent."""
    decoded = block.get("rlp_decoded") or {}
    if "blockAccessList" not in decoded or "blockHeader" not in decoded:
        outcomes.left_to_execution[expected] += 1
        return
    try:
        split_block(parse_hex_bytes(block["rlp"]))
        _bal_state_writes(store, parent_root, decoded)
    except BalOnlyReject as exc:
        outcomes.reject(exc.rule, expected, str(exc))
        check_rejection(exc.rule, expected, str(exc))
    except MalformedBlock:
        outcomes.left_to_execution[expected] += 1
    else:
        outcomes.left_to_execution[expected] += 1
