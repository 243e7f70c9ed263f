"""Hand-built packs whose dossier figures are worked out by hand from the definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pack_builder import access, address, slot, transaction, write_pack

from client.tools.dossier.dossier import build_dossier
from client.tools.dossier.trace_pack import read_trace_pack

X = 0x11


def dossier_of(tmp_path: Path, blocks: dict[int, list[dict[str, Any]]], workers=(1, 2)) -> dict[str, Any]:
    return build_dossier(read_trace_pack(write_pack(tmp_path / "pack", blocks)), workers).fields


@pytest.mark.parametrize(
    ("kind", "writes"),
    [
        ("read", False),
        ("call", False),
        ("write", True),
        ("create", True),
        ("selfdestruct", True),
        ("read_write", True),
        ("account_touch", True),
    ],
)
def test_each_kind_conflicts_with_a_read_only_if_it_writes(tmp_path: Path, kind: str, writes: bool) -> None:
    for first, second in ((kind, "read"), ("read", kind)):
        fields = dossier_of(
            tmp_path / first,
            {1: [transaction(0, [access(X, 1, first)]), transaction(1, [access(X, 1, second)])]},
        )
        assert fields["conflict_pair_count"] == int(writes)
        assert fields["overlapping_tx_count"] == 2  # read/read still overlaps


def test_conflict_rules_duplicates_and_account_keys(tmp_path: Path) -> None:
    block = [
        transaction(0, [access(X, 1, "write")]),
        transaction(1, [access(X, 1, "read")]),  # w/r with tx 0
        transaction(2, [access(X, 1, "read")]),  # w/r with tx 0, r/r with tx 1
        transaction(3, [access(X, None, "account_touch")]),  # account key: no match with X's slots
        transaction(4, [access(X, None, "call")]),  # r after tx 3's account write
        transaction(
            5,
            [
                access(X, 2, "write", "SSTORE", pc=7),
                access(X, 2, "write", "SSTORE", pc=7),  # exact duplicate: counted once
                access(X, 2, "read", "SLOAD", pc=3),
            ],
        ),
    ]
    fields = dossier_of(tmp_path, {1: block})
    assert fields["total_accesses"] == 7
    assert fields["conflict_pair_count"] == 3  # (0,1) (0,2) (3,4)
    assert fields["possible_pair_count"] == 15
    assert fields["conflict_percentage"] == 3 / 15 * 100
    assert fields["overlapping_tx_count"] == 5  # all but tx 5
    assert (fields["wave_count"], fields["max_wave_width"]) == (2, 3)
    assert (fields["unique_contracts"], fields["unique_storage_slots"]) == (1, 2)
    [contract] = fields["top_hot_contracts"]
    # slot 1: 1 writer x 2 readers = 2; account key: 1 writer x 1 reader = 1; slot 2: a lone writer = 0
    assert contract == {
        "address": address(X),
        "touching_txs": 6,
        "unique_slots": 2,
        "gas_of_touching_txs": 6 * 21_000,
        "conflict_contribution": 3,
    }
    assert [row["slot"] for row in fields["top_hot_storage_slots"]] == [slot(1), slot(2)]
    assert fields["parallelism_loss_decomposition"]["hot_slot_conflict_contributions"] == 2
    assert fields["parallelism_loss_decomposition"]["account_level_conflict_contributions"] == 1
    assert fields["contention_concentration"]["top_1_conflict_percent"] == 2 / 3 * 100
    assert fields["contention_concentration"]["top_5_conflict_percent"] == 100.0


def test_a_pair_conflicting_on_two_slots_counts_once_as_pair_twice_for_the_contract(tmp_path: Path) -> None:
    both = [access(X, 1, "write"), access(X, 2, "write")]
    fields = dossier_of(tmp_path, {1: [transaction(0, both, gas=100), transaction(1, both, gas=300)]})
    assert fields["conflict_pair_count"] == 1
    assert fields["top_hot_contracts"][0]["conflict_contribution"] == 2
    assert [row["conflict_contribution"] for row in fields["top_hot_storage_slots"]] == [1, 1]
    assert fields["gas_weighted_conflict_percentage"] == 100.0
    assert fields["worst_serializing_txs"][0]["tx_index"] == 1  # same degree, longer first


def test_missing_gas_makes_gas_metrics_null_and_durations_one(tmp_path: Path) -> None:
    block = [
        transaction(0, [access(X, 1, "write")], gas=50_000),
        transaction(1, [access(X, 1, "write")], gas=None),
        transaction(2, [access(X, 2, "write")], gas=70_000),
    ]
    fields = dossier_of(tmp_path, {1: block}, workers=(1, 2))
    for name in (
        "total_gas_used",
        "gas_weighted_conflict_percentage",
        "gas_weighted_critical_path",
        "theoretical_parallelism_ceiling_by_gas",
    ):
        assert fields[name] is None, name
    assert all(row["gas_of_touching_txs"] is None for row in fields["top_hot_contracts"])
    assert [row["duration_units"] for row in fields["worst_serializing_txs"]] == [1, 1]
    assert [row["makespan"] for row in fields["worker_simulation"]] == [3, 2]
    assert fields["worker_simulation"][1]["critical_path_bound"] == 2
    assert fields["worker_simulation"][1]["idle_percentage"] == 1 / 4 * 100
    assert any("gas" in warning for warning in fields["warnings"])


def test_ready_queue_priorities(tmp_path: Path) -> None:
    """Two workers; tx 3 (20 gas) must follow tx 0 (10 gas); txs 1 (12) and 2 (11) are free.

    canonical: 0,1 at 0; at 10 tx 2 (lower index) beats tx 3, which starts at 12: makespan 32,
      waits: tx 2 10, tx 3 2.
    gas_lpt: 1,2 at 0 (largest); tx 0 at 11, tx 3 at 21: makespan 41, wait: tx 0 11.
    critical_path: bottom levels 30, 12, 11, 20: 0,1 at 0; at 10 tx 3 (20) beats tx 2 (11),
      which starts at 12: makespan 30 (the bound), wait: tx 2 12.
    """
    block = [
        transaction(0, [access(X, 1, "write")], gas=10),
        transaction(1, [access(X, 2, "write")], gas=12),
        transaction(2, [access(X, 3, "write")], gas=11),
        transaction(3, [access(X, 1, "read")], gas=20),
    ]
    fields = dossier_of(tmp_path, {1: block}, workers=(1, 2))
    rows = {(row["strategy"], row["workers"]): row for row in fields["scheduler_ablation"]}
    expected = {"canonical": (32, 12), "gas_lpt": (41, 11), "critical_path": (30, 12)}
    for strategy, (makespan, wait) in expected.items():
        row = rows[(strategy, 2)]
        assert (row["makespan"], row["ready_queue_wait_units"]) == (makespan, wait), strategy
        assert row["preserves_dependencies"] is True
        assert row["critical_path_bound"] == 30
        assert row["speedup_vs_canonical_one_worker"] == 53 / makespan
        assert row["improvement_vs_canonical_percent"] == float(32 - makespan) / 32 * 100
        assert rows[(strategy, 1)]["makespan"] == 53
    # one worker: canonical runs 0,1,2,3 (tx 3 ready at 10, starts 33); waits 10 + 22 + 23
    assert rows[("canonical", 1)]["ready_queue_wait_units"] == 10 + 22 + 23
    assert fields["worker_simulation"][1]["makespan"] == 32
    assert fields["gas_weighted_critical_path"] == 30
    assert fields["theoretical_parallelism_ceiling_by_gas"] == 53 / 30


def test_sums_over_blocks_and_widest_block(tmp_path: Path) -> None:
    chain = [transaction(i, [access(X, 1, "read_write")], gas=10) for i in range(3)]
    free = [transaction(i, [access(X, 10 + i, "write")], gas=10) for i in range(4)]
    fields = dossier_of(tmp_path, {7: chain, 8: free})
    assert fields["block_count"] == 2
    assert fields["wave_count"] == fields["critical_path_length_by_tx"] == 3 + 1
    assert fields["max_wave_width"] == 4
    assert fields["possible_pair_count"] == 3 + 6
    assert fields["gas_weighted_critical_path"] == 30 + 10
    assert fields["worker_simulation"][1]["makespan"] == 30 + 20
