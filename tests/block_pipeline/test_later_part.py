"""EIP-7928 parallel execution: a block's later transactions in the part worker, from the BAL's state.

Same EF block as ``test_pipeline`` (three transactions): with
``min_transactions=2`` the node's process runs the first two and the worker
the third, from the state the BAL claims after index 2. A split import must
store exactly what an unsplit one stores; a BAL that lies about the state the
worker starts from must be rejected naming the rule the sequential execution
names, with nothing stored and no worker left busy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import rlp

from bal import BlockAccessList
from bal.types import AccountChanges, BalanceChange
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.genesis import parse_hex_bytes
from client.later_part_worker import later_part_pool
from pipeline import LaterPartPool, MerkleWorkerPool, import_block_sync
from pipeline.verdicts import BlockRejected
from storage import FLAT_STATE_BLOCK, HEAD, MemoryStore, RocksStore

from .bal_blocks import block_and_bal, committing_to, dump_store, replace_account

pytestmark = pytest.mark.integration  # real processes: worker pools


def test_a_split_import_stores_what_an_unsplit_one_does(
    tmp_path: Path, pool: MerkleWorkerPool, later_part_workers: LaterPartPool, test_case: dict[str, Any]
) -> None:
    block_rlp, bal = block_and_bal(test_case)
    stores = []
    for name, later_parts in (("whole", None), ("split", later_part_workers)):
        store = RocksStore(tmp_path / name)
        blockchain = Blockchain(store, config_from_fixture(test_case["network"], test_case["config"]))
        blockchain.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
        try:
            imported = import_block_sync(
                blockchain, block_rlp, bal=bal, merkleizer=pool, later_parts=later_parts
            )
            stores.append(dump_store(store))
        finally:
            store.close()
        timings = imported.timings
        assert timings.fallback is None
        assert timings.later_txs == (1 if later_parts else 0)
        assert ("later" in timings.spans) == (later_parts is not None)
    assert stores[0] == stores[1]
    assert later_part_workers.busy == 0


def _sender_balance_after_index_1_changed(bal: BlockAccessList) -> BlockAccessList:
    """The balance a sender has after transaction 1 (the worker starts from it) changed by one wei."""

    def bump(account: AccountChanges) -> AccountChanges:
        changes = tuple(
            BalanceChange(c.block_access_index, c.post_balance + (c.block_access_index == 1))
            for c in account.balance_changes
        )
        return dataclasses.replace(account, balance_changes=changes)

    def changed_at_1(account: AccountChanges) -> bool:
        return any(c.block_access_index == 1 for c in account.balance_changes)

    return replace_account(bal, changed_at_1, bump)


def test_a_lie_about_the_workers_start_names_the_sequential_rule(
    chain: Blockchain, pool: MerkleWorkerPool, later_part_workers: LaterPartPool, test_case: dict[str, Any]
) -> None:
    block_rlp, honest = block_and_bal(test_case)
    lying = _sender_balance_after_index_1_changed(honest)
    before = dump_store(chain.store)
    head, flat = chain.chain.pointer(HEAD), chain.chain.pointer(FLAT_STATE_BLOCK)

    with pytest.raises(BlockRejected) as rejected:
        import_block_sync(
            chain,
            committing_to(block_rlp, lying),
            bal=lying,
            merkleizer=pool,
            later_parts=later_part_workers,
        )

    assert rejected.value.rule == "wrong-post-value", rejected.value
    assert "index 1" in str(rejected.value)
    assert dump_store(chain.store) == before
    assert (chain.chain.pointer(HEAD), chain.chain.pointer(FLAT_STATE_BLOCK)) == (head, flat)
    assert later_part_workers.busy == 0 and pool.busy == 0
    imported = import_block_sync(
        chain, block_rlp, bal=honest, merkleizer=pool, later_parts=later_part_workers
    )
    assert imported.timings.later_txs == 1 and imported.timings.fallback is None


def test_small_blocks_and_memory_stores_are_not_split(
    chain: Blockchain, later_part_workers: LaterPartPool, test_case: dict[str, Any]
) -> None:
    block_rlp, bal = block_and_bal(test_case)
    prepared = chain.prepare(block_rlp, bal)
    # A new pool (the fixture's has adapted its share to the blocks it split).
    assert later_part_pool(min_transactions=2).split_point(chain, prepared.outline) == 2
    assert later_part_pool(min_transactions=4).split_point(chain, prepared.outline) is None
    in_memory = Blockchain(MemoryStore(), chain.config)
    in_memory.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
    assert later_part_workers.split_point(in_memory, in_memory.prepare(block_rlp, bal).outline) is None


def test_a_block_whose_parent_has_no_flat_state_is_not_split(
    chain: Blockchain, test_case: dict[str, Any]
) -> None:
    # The worker's handle opens what executing on flat state reads, not the parent's tries.
    block_rlp, bal = block_and_bal(test_case)
    outline = chain.prepare(block_rlp, bal).outline
    assert outline.parent_has_flat_state
    assert later_part_pool(min_transactions=2).split_point(chain, outline) == 2
    off_flat_state = dataclasses.replace(outline, parent_has_flat_state=False)
    assert later_part_pool(min_transactions=2).split_point(chain, off_flat_state) is None


GAS_LIMIT_FIELD = 9  # of a header's RLP list


def test_workers_started_before_prepare_survive_its_rejection(
    chain: Blockchain,
    pool: MerkleWorkerPool,
    later_part_workers: LaterPartPool,
    test_case: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The workers start from the block's outline; prepare's rejection is still the verdict.

    A header that breaks the gas-limit rule but commits to the given BAL has an
    outline, so the later part is requested before prepare rejects the block;
    the block is rejected for its header, nothing is stored, and the same
    worker processes (finished, not killed) import the honest block next.
    """
    block_rlp, bal = block_and_bal(test_case)
    items = rlp.decode(block_rlp)
    items[0][GAS_LIMIT_FIELD] = 2 * int.from_bytes(items[0][GAS_LIMIT_FIELD], "big")
    bad_header = rlp.encode(items)
    requested: list[int] = []
    run = later_part_workers.run

    async def recording_run(*args: Any) -> object:
        requested.append(args[-1])  # the index of the part's first transaction
        return await run(*args)

    monkeypatch.setattr(later_part_workers, "run", recording_run)
    before = dump_store(chain.store)
    head = chain.chain.pointer(HEAD)
    # Started here, not by an earlier test of the module: the pids must be of live workers.
    pool.launch()
    later_part_workers.launch()
    pids = [process.pid for process in pool.processes + later_part_workers.processes]
    assert len(pids) == 2

    with pytest.raises(BlockRejected) as rejected:
        import_block_sync(chain, bad_header, bal=bal, merkleizer=pool, later_parts=later_part_workers)

    assert rejected.value.rule == "invalid-header", rejected.value
    assert len(requested) == 1  # the part was on its way when prepare rejected the block
    assert dump_store(chain.store) == before and chain.chain.pointer(HEAD) == head
    assert later_part_workers.busy == 0 and pool.busy == 0
    imported = import_block_sync(chain, block_rlp, bal=bal, merkleizer=pool, later_parts=later_part_workers)
    assert imported.timings.later_txs == 1 and imported.timings.fallback is None
    assert [process.pid for process in pool.processes + later_part_workers.processes] == pids
