"""The BAL an execution hands back: the given one itself when it recorded exactly that, else its own.

Same EF block as ``test_pipeline``. Handing back the given object is what
spares the check a second copy and the store a second encoding; a given BAL
that differs must never come back as the executed one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bal import BlockAccessList, encode_bal
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.genesis import parse_hex_bytes
from pipeline import import_block_sync
from pipeline.chain import BlockExecution
from pipeline.state_source import StateSource
from storage import MemoryStore

from .bal_blocks import block_and_bal, committing_to, replace_account


def _chain(test_case: dict[str, Any]) -> Blockchain:
    """The fixture's genesis in memory."""
    blockchain = Blockchain(MemoryStore(), config_from_fixture(test_case["network"], test_case["config"]))
    blockchain.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
    return blockchain


def _executed(test_case: dict[str, Any], block_rlp: bytes, given: BlockAccessList) -> BlockExecution:
    blockchain = _chain(test_case)
    prepared = blockchain.prepare(block_rlp, given)
    source = StateSource(
        blockchain.store, prepared.parent.state_root, parent_has_flat_state=prepared.parent_has_flat_state
    )
    return blockchain.execute(prepared, source, with_deltas=False, given=given)


def test_the_given_bal_comes_back_when_execution_recorded_it(test_case: dict[str, Any]) -> None:
    block_rlp, given = block_and_bal(test_case)
    execution = _executed(test_case, block_rlp, given)
    assert execution.block_access_list is given


def test_a_different_given_bal_never_comes_back(test_case: dict[str, Any]) -> None:
    block_rlp, honest = block_and_bal(test_case)
    # The sender's nonce change dropped: well formed, committed to by the header, not what runs.
    lying = replace_account(
        honest,
        lambda a: bool(a.nonce_changes),
        lambda a: dataclasses.replace(a, nonce_changes=a.nonce_changes[1:]),
    )
    execution = _executed(test_case, committing_to(block_rlp, lying), lying)
    assert execution.block_access_list is not lying
    assert execution.block_access_list == honest


def test_the_stored_bal_is_the_given_ones_bytes(test_case: dict[str, Any]) -> None:
    block_rlp, given = block_and_bal(test_case)
    blockchain = _chain(test_case)
    imported = import_block_sync(blockchain, block_rlp, bal=given)
    assert blockchain.chain.bal_rlp(imported.block_hash) == encode_bal(given)
