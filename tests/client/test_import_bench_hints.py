"""import-bench tells its workers about every write they read, as the node does.

After fork choice moves the flat state the workers replay that move while the
next block is prepared; else the later-part worker would catch up at the start
of the next block's part (``storage.rocks.Follower.store_for``), on its critical path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from client.tools.import_bench import runs
from pipeline import LaterPartPool, Merkleizer
from storage import Chain, Store

pytestmark = [pytest.mark.slow, pytest.mark.integration]  # imports a chain through worker processes


def test_the_workers_hear_of_each_fork_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ChainSettings(fork="amsterdam", blocks=3, txs_per_block=20, seed=5, accounts=100)
    generate_chain(settings, tmp_path)
    chain = load_chain(tmp_path)
    # At each hint: the head, and the canonical hash of the block imported next in line.
    heads_hinted: list[tuple[bytes | None, bytes | None]] = []
    hint = runs.catch_up_workers

    def recording_hint(
        store: Store, merkleizer: Merkleizer | None, later_parts: LaterPartPool | None
    ) -> None:
        assert merkleizer is not None and later_parts is not None  # the BAL run's own pools
        stored = Chain(store)
        heads_hinted.append((stored.head_hash(), stored.canonical_hash(len(heads_hinted) + 1)))
        hint(store, merkleizer, later_parts)

    monkeypatch.setattr(runs, "catch_up_workers", recording_hint)
    run = runs.run_pipeline(
        chain,
        build_genesis(chain.genesis),
        with_bal=True,
        workers=1,
        progress=lambda: None,
        pin_cores=False,
    )
    assert run["summary"]["blocks"] == 3
    # One hint per block, each after fork choice made that block the head.
    assert len(heads_hinted) == 3
    assert all(head is not None and head == imported for head, imported in heads_hinted)
