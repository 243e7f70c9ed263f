"""The passes that execute blocks: ``streaming``, ``bal`` and ``paths``.

Each builds the chain from genesis through the pipeline (``pipeline.import_block``):
a valid block must import (its state root is checked against the header at
every block), a block the fixture expects to be invalid must be rejected by a
rule that answers the fixture's exception (``exception_map``) and leave the
head where it was; at the end the head must be ``lastblockhash`` and
the stored state must equal ``postState``.

* ``streaming``: in-memory store; the state root comes from the deltas
  execution produced; from Amsterdam on, the BAL execution records must hash
  to the header's.
* ``bal``: RocksDB store in a temporary directory, merkleizer and later-part
  worker processes (kept alive across tests); every block that carries a BAL
  (``blockAccessList``, or inside ``rlp_decoded`` for blocks expected invalid)
  goes down the BAL path: it is validated, its deltas drive the merkleizer
  while the block executes, and execution must reproduce it. Every block of
  two or more transactions is split: its later half runs in the later-part
  worker from the BAL's claimed state (the node splits only larger blocks;
  here the split is exercised on as many fixtures as possible).
* ``paths``: both of the above on the same test, then every key of every key
  space of the two stores must be equal: the BAL path and the streaming path
  store identical roots and state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from exception_map import check_rejection
from outcomes import Outcomes
from post_state import assert_post_state

from bal import BalError, BlockAccessList, bal_from_json
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.chaindb import decode_header
from client.genesis import parse_hex_bytes
from client.later_part_worker import later_part_pool
from pipeline import LaterPartPool, MerkleWorkerPool, import_block_sync
from pipeline.verdicts import BlockRejected, UnknownParent
from storage import MemoryStore, RocksStore, Space, Store

_pools: tuple[MerkleWorkerPool, LaterPartPool] | None = None


def worker_pools() -> tuple[MerkleWorkerPool, LaterPartPool]:
    """The worker processes of the ``bal`` pass, started once for the whole run."""
    global _pools
    if _pools is None:
        _pools = MerkleWorkerPool(), later_part_pool(min_transactions=2)
    return _pools


def close_worker_pools() -> None:
    global _pools
    if _pools is not None:
        for pool in _pools:
            pool.close()
        _pools = None


def _given_bal(block: dict[str, Any]) -> BlockAccessList | None:
    """The BAL a block carries, if any; a malformed one raises BalError."""
    raw = block.get("blockAccessList", block.get("rlp_decoded", {}).get("blockAccessList"))
    return None if raw is None else bal_from_json(raw)


def _run(test: dict[str, Any], outcomes: Outcomes, store: Store, *, with_bal: bool) -> None:
    chain = Blockchain(store, config_from_fixture(test["network"], test["config"]))
    genesis = chain.init_genesis(test["pre"], parse_hex_bytes(test["genesisRLP"]))
    assert genesis == parse_hex_bytes(test["genesisBlockHeader"]["hash"]), "genesis hash"
    merkleizer, later_parts = worker_pools() if isinstance(store, RocksStore) else (None, None)
    for position, block in enumerate(test["blocks"]):
        where = f"block {position + 1}"
        expected = block.get("expectException")
        head_before = chain.chain.head_hash()
        try:
            given = _given_bal(block) if with_bal else None
            imported = import_block_sync(chain,
                parse_hex_bytes(block["rlp"]), bal=given, merkleizer=merkleizer, later_parts=later_parts
            )
        except (BlockRejected, BalError, UnknownParent) as exc:
            assert expected is not None, f"{where}: valid block rejected: {exc}"
            assert chain.chain.head_hash() == head_before, f"{where}: rejected block moved the head"
            rule = getattr(exc, "rule", "unknown-parent")
            outcomes.reject(rule, expected, str(exc))
            check_rejection(rule, expected, f"{where}: {exc}")
            continue
        assert expected is None, f"{where}: block expected invalid ({expected}) was accepted"
        # The fallback must never be what makes a valid block import: the split run must hold.
        assert imported.timings.fallback is None, f"{where}: split run failed: {imported.timings.fallback}"
        chain.set_forkchoice(imported.block_hash)
        outcomes.valid_blocks += 1
        outcomes.add_timings(imported.timings)

    head = chain.chain.head_hash()
    assert head == parse_hex_bytes(test["lastblockhash"]), "head is not lastblockhash"
    head_header = decode_header(chain.chain.header_rlp(head))
    assert_post_state(store, head_header.state_root, test["postState"])


@contextmanager
def _rocks_store() -> Iterator[RocksStore]:
    with tempfile.TemporaryDirectory(prefix="balrex-ef-") as directory:
        store = RocksStore(Path(directory) / "db")
        try:
            yield store
        finally:
            store.close()


def run_streaming_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    _run(test, outcomes, MemoryStore(), with_bal=False)


def run_bal_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    with _rocks_store() as store:
        _run(test, outcomes, store, with_bal=True)


def run_paths_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    streaming = MemoryStore()
    _run(test, outcomes, streaming, with_bal=False)
    with _rocks_store() as store:
        _run(test, outcomes, store, with_bal=True)
        for space in Space:
            assert dict(store.iterate(space)) == dict(streaming.iterate(space)), (
                f"BAL path and streaming path stored different {space.name} entries"
            )
