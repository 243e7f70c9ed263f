"""The passes that execute blocks: ``streaming`` and ``bal``.

Both build the chain with ``Blockchain.add_block`` from genesis: a valid block
must import (its state root is checked against the header at every block), a
block the fixture expects to be invalid must be rejected and leave the head
where it was; at the end the head must be ``lastblockhash`` and the stored
state must equal ``postState``.

* ``streaming``: the state root comes from the deltas execution produced;
  from Amsterdam on, the BAL execution records must hash to the header's.
* ``bal``: every block that carries a BAL (``blockAccessList``, or inside
  ``rlp_decoded`` for blocks expected invalid) hands it to ``add_block``: it is
  validated, its deltas drive the merkleizer, and execution must reproduce it.
"""

from __future__ import annotations

from typing import Any

from outcomes import Outcomes
from post_state import assert_post_state

from bal import BalError, BlockAccessList, bal_from_json
from client.blockchain import Blockchain, BlockRejected, UnknownParent
from client.chain_config import config_from_fixture
from client.chaindb import decode_header
from client.genesis import parse_hex_bytes
from storage import MemoryStore


def _given_bal(block: dict[str, Any]) -> BlockAccessList | None:
    """The BAL a block carries, if any; a malformed one raises BalError."""
    raw = block.get("blockAccessList", block.get("rlp_decoded", {}).get("blockAccessList"))
    return None if raw is None else bal_from_json(raw)


def _run(test: dict[str, Any], outcomes: Outcomes, *, with_bal: bool) -> None:
    store = MemoryStore()
    chain = Blockchain(store, config_from_fixture(test["network"], test["config"]))
    genesis = chain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
    assert genesis == parse_hex_bytes(test["genesisBlockHeader"]["hash"]), "genesis hash"
    for position, block in enumerate(test["blocks"]):
        where = f"block {position + 1}"
        expected = block.get("expectException")
        head_before = chain.chain.head_hash()
        try:
            given = _given_bal(block) if with_bal else None
            imported = chain.add_block(parse_hex_bytes(block["rlp"]), bal=given)
        except (BlockRejected, BalError, UnknownParent) as exc:
            assert expected is not None, f"{where}: valid block rejected: {exc}"
            assert chain.chain.head_hash() == head_before, f"{where}: rejected block moved the head"
            outcomes.reject(getattr(exc, "rule", "unknown-parent"), expected)
            continue
        assert expected is None, f"{where}: block expected invalid ({expected}) was accepted"
        chain.set_forkchoice(imported.block_hash)
        outcomes.valid_blocks += 1
        outcomes.stages.update(exec=imported.exec_s, merkle=imported.merkle_s, store=imported.store_s)

    head = chain.chain.head_hash()
    assert head == parse_hex_bytes(test["lastblockhash"]), "head is not lastblockhash"
    head_header = decode_header(chain.chain.header_rlp(head))
    assert_post_state(store, head_header.state_root, test["postState"])


def run_streaming_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    _run(test, outcomes, with_bal=False)


def run_bal_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    _run(test, outcomes, with_bal=True)
