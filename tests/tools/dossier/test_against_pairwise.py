"""The bit-set analysis against a plain pairwise reading of the definitions, on seeded synthetic blocks."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from pack_builder import synthetic_block, write_pack

from client.tools.dossier.dossier import build_dossier
from client.tools.dossier.trace_pack import BOTH_KINDS, READ_KINDS, read_trace_pack

WORKERS = (1, 2, 3, 8)


def key_sets(tx: dict[str, Any]) -> tuple[set, set]:
    reads, writes = set(), set()
    for item in tx["accesses"]:
        key = (item["address"], item["slot"])
        if item["kind"] in READ_KINDS or item["kind"] in BOTH_KINDS:
            reads.add(key)
        if item["kind"] not in READ_KINDS:
            writes.add(key)
    return reads, writes


def pairwise(transactions: list[dict[str, Any]]) -> dict[str, Any]:
    sets = [key_sets(tx) for tx in transactions]
    gas = [tx["gas_used"] for tx in transactions]
    pairs = []
    contribution: dict[tuple, int] = {}
    overlapping = set()
    for i, j in combinations(range(len(transactions)), 2):
        (ri, wi), (rj, wj) = sets[i], sets[j]
        if (ri | wi) & (rj | wj):
            overlapping |= {i, j}
        shared = (wi & (rj | wj)) | (wj & ri)
        if shared:
            pairs.append((i, j))
            for key in shared:
                contribution[key] = contribution.get(key, 0) + 1
    level, finish = [], []
    for j in range(len(transactions)):
        before = [i for i, k in pairs if k == j]
        level.append(max((level[i] + 1 for i in before), default=0))
        finish.append(gas[j] + max((finish[i] for i in before), default=0))
    return {
        "conflict_pair_count": len(pairs),
        "overlapping_tx_count": len(overlapping),
        "wave_count": max(level) + 1,
        "gas_weighted_critical_path": max(finish),
        "gas_weighted_conflict": sum(gas[i] + gas[j] for i, j in pairs),
        "top_contribution": max(contribution.values(), default=0),
        "slot_contributions": sum(n for (_, slot), n in contribution.items() if slot is not None),
    }


@pytest.mark.parametrize(("seed", "hot_share"), [(1, 0.2), (2, 0.01), (3, 0.03)])
def test_bit_sets_agree_with_pairs(tmp_path: Path, seed: int, hot_share: float) -> None:
    """From nearly a chain (a fifth of the accesses on ten slots) to a sparse graph."""
    transactions = synthetic_block(60, 1_500, seed=seed, hot_share=hot_share)
    fields = build_dossier(read_trace_pack(write_pack(tmp_path / "pack", {1: transactions})), WORKERS).fields
    expected = pairwise(transactions)
    for name in ("conflict_pair_count", "overlapping_tx_count", "wave_count", "gas_weighted_critical_path"):
        assert fields[name] == expected[name], name
    total_gas = sum(tx["gas_used"] for tx in transactions)
    assert (
        fields["gas_weighted_conflict_percentage"]
        == float(expected["gas_weighted_conflict"]) / float(59 * total_gas) * 100
    )
    assert fields["top_hot_storage_slots"][0]["conflict_contribution"] == expected["top_contribution"]
    decomposition = fields["parallelism_loss_decomposition"]
    assert decomposition["hot_slot_conflict_contributions"] == expected["slot_contributions"]
    # any list schedule lies between the two lower bounds and the one-worker time
    for row in fields["scheduler_ablation"]:
        assert row["preserves_dependencies"] is True
        assert max(expected["gas_weighted_critical_path"], -(-total_gas // row["workers"])) <= row["makespan"]
        assert row["makespan"] <= total_gas
