"""Amsterdam execution end to end: a few EF fixture files through ``Blockchain.add_block``.

One file per EIP whose rules live in ``client/forks/amsterdam`` (the whole
folders run in the ``streaming`` pass of ``ef-tests``). ``add_block`` checks
every block's state root, receipts root, gas used, bloom and requests hash;
invalid blocks must be rejected, and the head must end at ``lastblockhash``.
"""

from __future__ import annotations

import json

import pytest
from fixture_files import release_archive, unpack_archive

from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.genesis import parse_hex_bytes
from pipeline import import_block_sync
from pipeline.verdicts import BlockRejected
from storage import MemoryStore

FILES = [
    "amsterdam/eip7843_slotnum/slotnum/slotnum_value.json",
    "amsterdam/eip7708_eth_transfer_logs/burn_logs/finalization_burn_logs_multi_account_ordering.json",
    "amsterdam/eip7708_eth_transfer_logs/transfer_logs/create_collision_no_log.json",
    "amsterdam/eip7778_block_gas_accounting_without_refunds/gas_accounting/multiple_refund_types_in_one_tx.json",
    "amsterdam/eip8024_dupn_swapn_exchange/eip_vectors/eip_vector_exchange_30_items.json",
    "amsterdam/eip8024_dupn_swapn_exchange/dupn/endofcode_behavior.json",
    "amsterdam/eip8037_state_creation_gas_cost_increase/state_gas_call/call_insufficient_balance_returns_reservoir.json",
    "amsterdam/eip8037_state_creation_gas_cost_increase/state_gas_sstore/sstore_restoration_sub_frame_revert.json",
    "amsterdam/eip8037_state_creation_gas_cost_increase/state_gas_create/inner_create_fail_refunds_in_creation_tx.json",
    # EIP-7610 (storage makes a collision) and a collided creation transaction under EIP-8037.
    "paris/eip7610_create_collision/revert_in_create/collision_with_create2_revert_in_initcode.json",
    "paris/eip7610_create_collision/revert_in_create/create2_collision_storage.json",
]


@pytest.mark.parametrize("relative", FILES)
def test_amsterdam_fixture_file(relative: str) -> None:
    root = unpack_archive(release_archive("for_amsterdam.tar.gz")) / "blockchain_tests" / "for_amsterdam"
    path = root / relative
    if not path.is_file():
        pytest.fail(f"fixture file missing: {path}")
    tests = json.loads(path.read_text())
    assert tests
    for name, test in tests.items():
        _run(name, test)


def _run(name: str, test: dict) -> None:
    chain = Blockchain(MemoryStore(), config_from_fixture(test["network"], test["config"]))
    chain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
    for position, block in enumerate(test["blocks"]):
        expected = block.get("expectException")
        try:
            imported = import_block_sync(chain, parse_hex_bytes(block["rlp"]))
        except BlockRejected as exc:
            assert expected, f"{name} block {position + 1}: valid block rejected: {exc}"
            continue
        assert not expected, f"{name} block {position + 1}: invalid block accepted ({expected})"
        chain.set_forkchoice(imported.block_hash)
    assert chain.chain.head_hash() == parse_hex_bytes(test["lastblockhash"]), name
