"""The pipeline on a RocksDB store with merkleizer worker processes: lying BALs, cancellation, timings.

The block is an EF fixture block with three transactions, storage writes and
balance changes (amsterdam/eip7928 ``bal_multiple_storage_writes_same_slot``).
A lying BAL is given together with a header that commits to it (its hash
recomputed), so it passes the hash check and reaches the tasks; each lie must
be rejected naming its rule, store nothing, leave the head where it was, and
leave no worker busy, with the block executed whole or split (its third
transaction in the later-part worker); closing a pool leaves no process behind.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import trio

from bal import BlockAccessList, synthesize_deltas
from bal.types import AccountChanges, BalanceChange, StorageChange
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.genesis import parse_hex_bytes
from pipeline import InlineMerkleizer, LaterPartPool, MerkleWorkerPool, import_block_sync
from pipeline.verdicts import BlockRejected
from storage import FLAT_STATE_BLOCK, HEAD, RocksStore

from .bal_blocks import block_and_bal, committing_to, dump_store, replace_account

pytestmark = pytest.mark.integration  # real processes: worker pools


def _wrong_storage_value(bal: BlockAccessList) -> BlockAccessList:
    def bump(account: AccountChanges) -> AccountChanges:
        first, *rest = account.storage_changes
        *earlier, last = first.changes
        bumped = StorageChange(last.block_access_index, last.post_value + 1)
        slot = dataclasses.replace(first, changes=(*earlier, bumped))
        return dataclasses.replace(account, storage_changes=(slot, *rest))

    return replace_account(bal, lambda a: bool(a.storage_changes), bump)


def _dropped_sender(bal: BlockAccessList) -> BlockAccessList:
    return replace_account(bal, lambda a: bool(a.nonce_changes), lambda a: None)


def _phantom_read(bal: BlockAccessList) -> BlockAccessList:
    def add_read(account: AccountChanges) -> AccountChanges:
        return dataclasses.replace(account, storage_reads=tuple(sorted((*account.storage_reads, 0xBEEF))))

    return replace_account(bal, lambda a: bool(a.nonce_changes), add_read)


def _index_out_of_range(bal: BlockAccessList) -> BlockAccessList:
    def late(account: AccountChanges) -> AccountChanges:
        *earlier, last = account.balance_changes
        return dataclasses.replace(
            account, balance_changes=(*earlier, BalanceChange(99, last.post_balance))
        )

    return replace_account(bal, lambda a: bool(a.balance_changes), late)


LIES = {
    "post-value changed": (_wrong_storage_value, "wrong-post-value"),
    "account dropped": (_dropped_sender, "missing-account"),
    "phantom storage read": (_phantom_read, "extra-storage-read"),
    "index out of range": (_index_out_of_range, "index-out-of-range"),
}


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("lie", sorted(LIES))
def test_a_lying_bal_is_rejected_and_leaves_nothing(
    lie: str,
    split: bool,
    chain: Blockchain,
    pool: MerkleWorkerPool,
    later_part_workers: LaterPartPool,
    test_case: dict[str, Any],
) -> None:
    """With the block split (its third transaction in the part worker) or not, the same rule."""
    later_parts = later_part_workers if split else None
    block_rlp, honest = block_and_bal(test_case)
    make_lie, rule = LIES[lie]
    lying = make_lie(honest)
    assert lying != honest
    before = dump_store(chain.store)
    head, tip = chain.chain.pointer(HEAD), chain.chain.pointer(FLAT_STATE_BLOCK)

    with pytest.raises(BlockRejected) as rejected:
        import_block_sync(
            chain, committing_to(block_rlp, lying), bal=lying, merkleizer=pool, later_parts=later_parts
        )

    assert rejected.value.rule == rule, rejected.value
    assert dump_store(chain.store) == before
    assert (chain.chain.pointer(HEAD), chain.chain.pointer(FLAT_STATE_BLOCK)) == (head, tip)
    assert pool.busy == 0 and later_part_workers.busy == 0
    # The same pools still serve the honest block.
    imported = import_block_sync(chain, block_rlp, bal=honest, merkleizer=pool, later_parts=later_parts)
    assert imported.state_root == chain.header(imported.block_hash).state_root
    assert imported.timings.later_txs == (1 if split else 0)


def test_bal_path_reports_stage_timings(
    chain: Blockchain, pool: MerkleWorkerPool, test_case: dict[str, Any]
) -> None:
    block_rlp, bal = block_and_bal(test_case)
    timings = import_block_sync(chain, block_rlp, bal=bal, merkleizer=pool).timings
    assert set(timings.spans) == {"prepare", "exec", "warmer", "merkle", "store"}
    merkle_start, merkle_end = timings.spans["merkle"]
    exec_start, exec_end = timings.spans["exec"]
    assert timings.merkle_concurrent == pytest.approx(
        max(0.0, min(merkle_end, exec_end) - max(merkle_start, exec_start))
    )
    assert timings.merkle_drain == pytest.approx(max(0.0, merkle_end - exec_end))
    assert 0.0 <= timings.merkle_overlap_pct <= 100.0
    assert timings.warm_hits is not None and timings.warm_hits + timings.warm_misses > 0
    assert timings.wall >= timings.spans["store"][1]
    row = timings.as_row()
    assert row["exec_ms"] == pytest.approx(1000 * (exec_end - exec_start), abs=1e-3)


def test_streaming_path_has_no_warmer_and_merkle_after_exec(
    chain: Blockchain, test_case: dict[str, Any]
) -> None:
    block_rlp, _ = block_and_bal(test_case)
    timings = import_block_sync(chain, block_rlp).timings
    assert "warmer" not in timings.spans and timings.warm_hits is None
    assert timings.spans["merkle"][0] >= timings.spans["exec"][1]
    assert timings.merkle_overlap_pct == 0.0


def test_spread_stage_b_matches_inline(tmp_path: Path, test_case: dict[str, Any]) -> None:
    """Two workers (walk, stage B dealt out, finish) give the inline merkleizer's root and nodes."""
    block_rlp, bal = block_and_bal(test_case)
    results = []
    for merkleizer in (InlineMerkleizer(), MerkleWorkerPool(size=2)):
        store = RocksStore(tmp_path / f"db-{len(results)}")
        blockchain = Blockchain(store, config_from_fixture(test_case["network"], test_case["config"]))
        blockchain.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
        try:
            import_block_sync(blockchain, block_rlp, bal=bal, merkleizer=merkleizer)
            results.append(dump_store(store))
        finally:
            if isinstance(merkleizer, MerkleWorkerPool):
                assert len(merkleizer.processes) == 2
                merkleizer.close()
            store.close()
    assert results[0] == results[1]


def test_a_cancelled_merkle_job_kills_its_worker(chain: Blockchain, test_case: dict[str, Any]) -> None:
    _, bal = block_and_bal(test_case)
    workers = MerkleWorkerPool(size=1)
    workers.start()
    (process,) = workers.processes
    parent_root = chain.header(chain.chain.head_hash()).state_root

    async def cancelled_mid_job() -> None:
        with trio.move_on_after(0):
            await workers.merkleize(chain.store, parent_root, synthesize_deltas(bal))
            pytest.fail("the job was not cancelled")

    try:
        trio.run(cancelled_mid_job)
        assert not process.is_alive() and workers.busy == 0
        # The next block gets a fresh worker.
        result = trio.run(workers.merkleize, chain.store, parent_root, synthesize_deltas(bal))
        expected = parse_hex_bytes(test_case["blocks"][0]["blockHeader"]["stateRoot"])
        assert result.state_root == expected
        assert workers.processes[0] is not process
    finally:
        workers.close()
    assert not any(p.is_alive() for p in workers.processes + [process])


def test_closing_the_pool_leaves_no_process(chain: Blockchain, test_case: dict[str, Any]) -> None:
    block_rlp, bal = block_and_bal(test_case)
    workers = MerkleWorkerPool(size=2)
    import_block_sync(chain, block_rlp, bal=bal, merkleizer=workers)
    processes = workers.processes
    assert processes and all(p.is_alive() for p in processes)
    workers.close()
    assert not any(p.is_alive() for p in processes)
    assert not [c for c in multiprocessing.active_children() if c in processes]
