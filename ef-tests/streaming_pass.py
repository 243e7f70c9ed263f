"""The ``streaming`` pass: every block executed and merkleized from its execution.

Genesis from ``pre``; then each block goes through ``Blockchain.add_block``:
a valid block must import (its state root is checked against the header at
every block), a block the fixture expects to be invalid must be rejected and
must leave the head where it was. At the end the head must be
``lastblockhash`` and the stored state must equal ``postState``.
"""

from __future__ import annotations

from typing import Any

from outcomes import Outcomes
from post_state import assert_post_state

from client.blockchain import Blockchain, BlockRejected, UnknownParent
from client.chain_config import config_from_fixture
from client.chaindb import decode_header
from client.genesis import parse_hex_bytes
from storage import MemoryStore


def run_streaming_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    store = MemoryStore()
    chain = Blockchain(store, config_from_fixture(test["network"], test["config"]))
    genesis = chain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
    assert genesis == parse_hex_bytes(test["genesisBlockHeader"]["hash"]), "genesis hash"
    for position, block in enumerate(test["blocks"]):
        where = f"block {position + 1}"
        expected = block.get("expectException")
        head_before = chain.chain.head_hash()
        try:
            imported = chain.add_block(parse_hex_bytes(block["rlp"]))
        except (BlockRejected, UnknownParent) as exc:
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
