"""System calls run the system contracts' code, under Amsterdam's EIP-8037 state gas.

Each block here is built by executing it (``ChainBuilder``: its header carries
what execution produced and it is imported through the BAL path), then
imported again on the streaming path into a second chain. At a block gas
limit of 2.4e16 the cost per state byte makes a new slot cost far more than a
system call's 30 million gas, so the EIP-4788 and EIP-2935 SSTOREs run out of
gas: the calls fail silently, their slots are only read (EIP-7928) and never
written. At an ordinary limit the same calls write them. A checked call
(EIP-7002) that fails the same way makes the block invalid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.abc import SignedTransactionAPI
from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS, HISTORY_BUFFER_LENGTH
from eth.vm.forks.prague.constants import HISTORY_STORAGE_ADDRESS, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS
from eth_keys.datatypes import PrivateKey

from bal import BlockAccessList
from client.block_builder import ProducedBlock
from client.blockchain import Blockchain
from client.dev_genesis import CHAIN_ID, DEV_ACCOUNTS, dev_genesis, dev_keys
from client.forks.amsterdam.state_gas import STATE_BYTES_STORAGE_SET, cost_per_state_byte
from client.genesis import build_genesis
from client.later_part_worker import later_part_pool
from client.tools.bench_chain.builder import ChainBuilder
from pipeline import MerkleWorkerPool, import_block_sync
from pipeline.state_source import StateSource
from pipeline.verdicts import BlockRejected, Rule
from storage import MemoryStore, RocksStore

ENORMOUS_GAS_LIMIT = 24_000_000_000_000_000  # about the ported_static fixtures' 2.4e16
ORDINARY_GAS_LIMIT = 60_000_000
SYSTEM_CALL_GAS = 30_000_000
# Runtime code that stores 1 in slot 0: PUSH1 1, PUSH1 0, SSTORE, STOP.
SSTORE_NEW_SLOT = "0x600160005500"


def _genesis(gas_limit: int, replaced_code: dict[bytes, str] | None = None) -> dict[str, Any]:
    genesis = dev_genesis()
    genesis["gasLimit"] = hex(gas_limit)
    for address, code in (replaced_code or {}).items():
        genesis["alloc"]["0x" + address.hex()]["code"] = code
    return genesis


def _build_one_block(genesis: dict[str, Any]) -> tuple[ChainBuilder, ProducedBlock]:
    builder = ChainBuilder(genesis, randomness=b"system calls")
    return builder, builder.build([])


def _slot_record(bal: BlockAccessList | None, address: bytes, slot: int) -> tuple[bool, bool]:
    """(written, read-only) for ``slot`` of ``address`` in ``bal``."""
    assert bal is not None, "an Amsterdam block records its BAL"
    for account in bal.accounts:
        if account.address == address:
            written = any(change.slot == slot for change in account.storage_changes)
            return written, slot in account.storage_reads
    return False, False


def _post_storage(builder: ChainBuilder, address: bytes, slot: int) -> int:
    source = StateSource(builder.blockchain.store, builder.head.state_root, parent_has_flat_state=True)
    return source.storage(address, slot)


def _fresh_chain(genesis: dict[str, Any], store: Any) -> Blockchain:
    fresh = build_genesis(genesis)
    chain = Blockchain(store, fresh.config)
    chain.init_genesis_state(fresh.state, fresh.block_rlp)
    return chain


def _streaming_import(genesis: dict[str, Any], built: ProducedBlock) -> bytes:
    """Import ``built`` without its BAL into a fresh chain; its hash."""
    return import_block_sync(_fresh_chain(genesis, MemoryStore()), built.rlp).block_hash


def _transfers(builder: ChainBuilder, count: int) -> list[SignedTransactionAPI]:
    """``count`` one-wei transfers from dev account 0 to dev account 1 (an existing account: no state gas)."""
    base_fee = builder.next_base_fee()
    unsigned = (
        builder.tx_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=CHAIN_ID,
            nonce=nonce,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=base_fee,
            gas=21_000,
            to=bytes.fromhex(DEV_ACCOUNTS[1][2:]),
            value=1,
            data=b"",
            access_list=(),
        )
        for nonce in range(count)
    )
    # Decoded again: py-evm signs typed transactions as London's class.
    key = PrivateKey(dev_keys()[0])
    return [builder.tx_builder().decode(tx.as_signed_transaction(key).encode()) for tx in unsigned]


def test_the_enormous_limit_prices_a_new_slot_beyond_a_system_call() -> None:
    # The premise of the tests below, from the EIP-8037 formula.
    assert STATE_BYTES_STORAGE_SET * cost_per_state_byte(ENORMOUS_GAS_LIMIT) > SYSTEM_CALL_GAS
    assert STATE_BYTES_STORAGE_SET * cost_per_state_byte(ORDINARY_GAS_LIMIT) < SYSTEM_CALL_GAS


def test_history_and_beacon_root_slots_are_only_read_at_an_enormous_gas_limit() -> None:
    genesis = _genesis(ENORMOUS_GAS_LIMIT)
    builder, built = _build_one_block(genesis)
    timestamp_slot = built.header.timestamp % HISTORY_BUFFER_LENGTH

    assert _slot_record(built.block_access_list, HISTORY_STORAGE_ADDRESS, 0) == (False, True)
    assert _slot_record(built.block_access_list, BEACON_ROOTS_ADDRESS, timestamp_slot) == (False, True)
    assert _post_storage(builder, HISTORY_STORAGE_ADDRESS, 0) == 0
    assert _post_storage(builder, BEACON_ROOTS_ADDRESS, timestamp_slot) == 0
    assert _post_storage(builder, BEACON_ROOTS_ADDRESS, timestamp_slot + HISTORY_BUFFER_LENGTH) == 0
    assert _streaming_import(genesis, built) == built.header.hash


def test_history_and_beacon_root_slots_are_written_at_an_ordinary_gas_limit() -> None:
    genesis = _genesis(ORDINARY_GAS_LIMIT)
    builder, built = _build_one_block(genesis)
    timestamp_slot = built.header.timestamp % HISTORY_BUFFER_LENGTH
    parent_root = built.header.parent_beacon_block_root

    assert _slot_record(built.block_access_list, HISTORY_STORAGE_ADDRESS, 0) == (True, False)
    assert _slot_record(built.block_access_list, BEACON_ROOTS_ADDRESS, timestamp_slot) == (True, False)
    assert _post_storage(builder, HISTORY_STORAGE_ADDRESS, 0) == int.from_bytes(
        built.header.parent_hash, "big"
    )
    assert _post_storage(builder, BEACON_ROOTS_ADDRESS, timestamp_slot) == built.header.timestamp
    assert _post_storage(
        builder, BEACON_ROOTS_ADDRESS, timestamp_slot + HISTORY_BUFFER_LENGTH
    ) == int.from_bytes(parent_root, "big")
    assert _streaming_import(genesis, built) == built.header.hash


def test_a_checked_system_call_out_of_state_gas_makes_the_block_invalid() -> None:
    # The EIP-7002 contract replaced by one that creates a slot: fine at an ordinary limit ...
    replaced = {WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS: SSTORE_NEW_SLOT}
    builder, _ = _build_one_block(_genesis(ORDINARY_GAS_LIMIT, replaced))
    assert _post_storage(builder, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, 0) == 1
    # ... out of gas at the enormous one, and a failed EIP-7002 call invalidates the block.
    with pytest.raises(BlockRejected) as rejected:
        _build_one_block(_genesis(ENORMOUS_GAS_LIMIT, replaced))
    assert rejected.value.rule == Rule.SYSTEM_CONTRACT_CALL_FAILED


@pytest.mark.integration
def test_the_split_import_leaves_the_history_slot_unwritten_at_an_enormous_gas_limit(tmp_path: Path) -> None:
    # The BAL path with a later part (the second transaction runs in the part worker):
    # the system calls stay in the node's process, before and after both parts.
    genesis = _genesis(ENORMOUS_GAS_LIMIT)
    builder = ChainBuilder(genesis, randomness=b"system calls")
    built = builder.build(_transfers(builder, 2))
    assert _slot_record(built.block_access_list, HISTORY_STORAGE_ADDRESS, 0) == (False, True)
    store = RocksStore(tmp_path / "db")
    merkleizer, later_parts = MerkleWorkerPool(size=1), later_part_pool(min_transactions=2)
    try:
        chain = _fresh_chain(genesis, store)
        imported = import_block_sync(
            chain, built.rlp, bal=built.block_access_list, merkleizer=merkleizer, later_parts=later_parts
        )
        assert imported.block_hash == built.header.hash
        assert (imported.timings.later_txs, imported.timings.fallback) == (1, None)
        source = StateSource(store, built.header.state_root, parent_has_flat_state=True)
        assert source.storage(HISTORY_STORAGE_ADDRESS, 0) == 0
    finally:
        later_parts.close()
        merkleizer.close()
        store.close()
