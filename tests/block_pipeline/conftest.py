"""The pipeline tests' block (an EF fixture block with three transactions), chain and worker pools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixture_files import first_test

from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.genesis import parse_hex_bytes
from client.later_part_worker import LaterPartWorker
from pipeline import LaterPartPool, MerkleWorkerPool
from storage import RocksStore

CASE = (
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists/"
    "bal_multiple_storage_writes_same_slot.json"
)


@pytest.fixture(scope="module")
def test_case() -> dict[str, Any]:
    return first_test("for_amsterdam.tar.gz", CASE)


@pytest.fixture(scope="module")
def pool() -> Iterator[MerkleWorkerPool]:
    workers = MerkleWorkerPool(size=1)
    yield workers
    workers.close()


class FixedSplitPool(LaterPartPool):
    """A later-part pool whose split never moves.

    The tests name the split: two transactions here, one in the worker. A pool's
    share follows the measured rates of every block it splits, and the module's
    blocks would move it either way, by timing alone.
    """

    def observe(self, first: int, first_seconds: float, later: int, later_seconds: float) -> None:
        pass


@pytest.fixture(scope="module")
def later_part_workers() -> Iterator[LaterPartPool]:
    workers = FixedSplitPool(LaterPartWorker, min_transactions=2)
    yield workers
    workers.close()


@pytest.fixture
def chain(tmp_path: Path, test_case: dict[str, Any]) -> Iterator[Blockchain]:
    store = RocksStore(tmp_path / "db")
    blockchain = Blockchain(store, config_from_fixture(test_case["network"], test_case["config"]))
    blockchain.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
    yield blockchain
    store.close()
