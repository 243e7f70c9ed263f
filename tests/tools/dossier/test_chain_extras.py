"""The chain source's extra sections on hand-made blocks: oracle, BAL ceiling, measured speedup."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import rlp
from eth._utils.address import generate_contract_address
from eth.vm.forks.prague.constants import MAGIC
from eth_keys import keys

from client.tools.dossier.analysis import BlockGraph, analyze_block
from client.tools.dossier.ceiling import bal_ceiling, split_speedup
from client.tools.dossier.chain import BlockRun
from client.tools.dossier.dossier import build_dossier, range_title
from client.tools.dossier.execution import SplitRun
from client.tools.dossier.measured import MeasuredError, load_measured, measured_in_run, measured_vs_predicted
from client.tools.dossier.model import AccessSource, BlockAccesses, Key, TxAccesses
from client.tools.dossier.oracle import oracle_quality, predicted_accesses
from client.tools.dossier.views import account_key, storage_key

ALICE, BOB, TOKEN = (bytes([n]) * 20 for n in (0xA1, 0xB0, 0x70))
AUTHORITY_KEY = keys.PrivateKey(b"\x11" * 32)


def envelope(**fields: Any) -> SimpleNamespace:
    """A signed transaction as far as the oracle reads it."""
    return SimpleNamespace(**({"sender": ALICE, "to": BOB, "value": 0, "nonce": 3} | fields))


def signed_authorization(chain_id: int, delegate: bytes, nonce: int) -> SimpleNamespace:
    signature = AUTHORITY_KEY.sign_msg(MAGIC + rlp.encode([chain_id, delegate, nonce]))
    return SimpleNamespace(
        chain_id=chain_id, address=delegate, nonce=nonce, y_parity=signature.v, r=signature.r, s=signature.s
    )


def test_the_envelope_announces_sender_recipient_lists_and_authorities() -> None:
    reads, writes = predicted_accesses(envelope(value=5))
    assert (reads, writes) == (set(), {account_key(ALICE), account_key(BOB)})
    reads, writes = predicted_accesses(envelope())
    assert (reads, writes) == ({account_key(BOB)}, {account_key(ALICE)})  # no value: its code is read
    created = bytes(generate_contract_address(ALICE, 3))
    assert predicted_accesses(envelope(to=b""))[1] == {account_key(ALICE), account_key(created)}
    reads, writes = predicted_accesses(envelope(access_list=((TOKEN, (1, 2)),)))
    assert account_key(TOKEN) in reads
    assert {storage_key(TOKEN, 1), storage_key(TOKEN, 2)} <= writes
    authority = AUTHORITY_KEY.public_key.to_canonical_address()
    unsigned = SimpleNamespace(chain_id=1, address=TOKEN, nonce=0, y_parity=5, r=1, s=1)  # recovers nothing
    _, writes = predicted_accesses(envelope(authorization_list=(signed_authorization(1, TOKEN, 0), unsigned)))
    assert writes == {account_key(ALICE), account_key(authority)}


def tx(index: int, reads: set[Key], writes: set[Key], gas: int = 1) -> TxAccesses:
    return TxAccesses(index, f"0x{index:064x}", gas, frozenset(reads), frozenset(writes), len(reads | writes))


def graph(*transactions: TxAccesses) -> BlockGraph:
    block = BlockAccesses(1, transactions)
    return analyze_block(block, tuple(t.gas_used or 1 for t in transactions), with_gas=True)


def test_oracle_precision_and_recall_of_keys_and_pairs() -> None:
    alice, bob, slot = account_key(ALICE), account_key(BOB), storage_key(TOKEN, 1)
    # Execution: tx 0 writes the slot, tx 1 reads it (one conflicting pair); both touch their sender.
    exact = graph(tx(0, {alice}, {alice, slot}), tx(1, {bob, slot}, {bob}))
    # The oracle sees the senders only, plus a recipient (Bob) tx 0 never touched.
    oracle = graph(tx(0, {bob}, {alice}), tx(1, set(), {bob}))
    quality = oracle_quality([oracle], [exact])
    # Keys: predicted {alice, bob} + {bob} = 3, exact {alice, slot} + {bob, slot} = 4, both 2.
    assert quality["keys"] == {
        "predicted": 3,
        "exact": 4,
        "both": 2,
        "precision_percentage": pytest.approx(200 / 3),
        "recall_percentage": 50.0,
    }
    assert quality["storage_keys"]["recall_percentage"] == 0.0
    assert quality["storage_keys"]["precision_percentage"] is None  # nothing predicted
    # Pairs are pairs of transactions: the oracle's (0, 1) through Bob is execution's (0, 1) through
    # the slot, so the oracle found it, for a wrong reason.
    assert quality["conflict_pairs"] == {
        "predicted": 1,
        "exact": 1,
        "both": 1,
        "precision_percentage": 100.0,
        "recall_percentage": 100.0,
    }


def test_the_bal_ceiling_ignores_dependencies_and_only_counts_workers() -> None:
    key = account_key(TOKEN)
    chained = graph(tx(0, set(), {key}, gas=3), tx(1, set(), {key}, gas=5), tx(2, set(), set(), gas=2))
    ceiling = bal_ceiling([chained], (1, 2, 3))
    speedups = [row["speedup_vs_one_worker"] for row in ceiling["worker_simulation"]]
    # tx 1 no longer waits for tx 0. 2 workers: tx 0 (3) and tx 1 (5) start at once, tx 2 (2) follows
    # tx 0 at 3 -> makespan 5, as with 3 workers; 1 worker: 10.
    assert speedups == pytest.approx([1.0, 10 / 5, 10 / 5])
    assert ceiling["unbounded_workers_speedup"] == pytest.approx(10 / 5)


def test_balrex_split_at_best_is_gas_over_the_larger_part() -> None:
    assert split_speedup([1, 2, 3, 4], 2) == pytest.approx(10 / 7)
    assert split_speedup([5, 5], 1) == pytest.approx(2.0)


def bench_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"runs": {"with_bal": {"blocks": rows}}}))
    return path


def bench_row(exec_ms: float, later_txs: int, gas: int = 10, txs: int = 3) -> dict[str, Any]:
    return {"number": 1, "txs": txs, "gas": gas, "exec_ms": exec_ms, "later_txs": later_txs, "fallback": None}


def test_measured_speedup_is_whole_exec_over_split_exec(tmp_path: Path) -> None:
    key = account_key(TOKEN)
    block = graph(tx(0, set(), {key}, gas=3), tx(1, set(), {key}, gas=5), tx(2, set(), set(), gas=2))
    split = bench_json(tmp_path / "split.json", [bench_row(60.0, later_txs=2)])
    whole = bench_json(tmp_path / "whole.json", [bench_row(90.0, later_txs=0)])
    measured = measured_vs_predicted([block], load_measured(split, whole))
    row = measured["blocks"][0]
    assert row["measured_speedup"] == pytest.approx(1.5) == measured["measured_speedup"]
    assert row["predicted_split_speedup"] == pytest.approx(10 / 7)  # first part 3, later part 5 + 2
    assert row["bal_ceiling_speedup"] == pytest.approx(2.0)
    assert row["simulated_speedup"] == pytest.approx(10 / 8)  # tx 1 waits for tx 0; tx 2 runs beside
    assert measured["split_blocks"] == 1


def test_measured_in_this_run_is_serial_exec_over_split_exec() -> None:
    key = account_key(TOKEN)
    block = graph(tx(0, set(), {key}, gas=3), tx(1, set(), {key}, gas=5), tx(2, set(), set(), gas=2))
    # The executor's span was 0.100 s, 0.030 s of it waiting; the worker ran the part in 0.050 s:
    # run alone the executor would have taken 0.100 - 0.030 + 0.050 = 0.120 s.
    split = BlockRun(1, 1, 3, 0.100, SplitRun(later_txs=2, wait_seconds=0.030, part_seconds=0.050))
    measured = measured_in_run([block], [split])
    row = measured["blocks"][0]
    assert measured["method"] == "this run"
    assert row["serial_exec_ms"] == pytest.approx(120.0) and row["split_exec_ms"] == pytest.approx(100.0)
    assert row["measured_speedup"] == pytest.approx(1.2) == measured["measured_speedup"]
    assert row["predicted_split_speedup"] == pytest.approx(10 / 7)
    # A block that ran whole is listed, with no speedup, and left out of the totals.
    whole = BlockRun(1, 1, 3, 0.080, None)
    measured = measured_in_run([block, block], [split, whole])
    assert measured["split_blocks"] == 1 and measured["measured_speedup"] == pytest.approx(1.2)
    assert measured["blocks"][1]["measured_speedup"] is None
    with pytest.raises(MeasuredError, match="does not belong"):
        measured_in_run([block], [BlockRun(1, 2, 3, 0.1, None)])


@pytest.mark.parametrize(
    ("split_row", "whole_row", "message"),
    [
        (bench_row(60.0, 2, txs=4), bench_row(90.0, 0), "has 4 transactions, the analyzed one 3"),
        (bench_row(60.0, 2), bench_row(90.0, 1), "--no-parallel"),
        ({**bench_row(60.0, 2), "number": 2}, bench_row(90.0, 0), "block 1 is not in"),
    ],
)
def test_a_bench_json_that_does_not_fit_is_named(
    tmp_path: Path, split_row: dict[str, Any], whole_row: dict[str, Any], message: str
) -> None:
    block = graph(tx(0, set(), set(), gas=3), tx(1, set(), set(), gas=5), tx(2, set(), set(), gas=2))
    split = bench_json(tmp_path / "split.json", [split_row])
    whole = bench_json(tmp_path / "whole.json", [whole_row])
    with pytest.raises(MeasuredError, match=message):
        measured_vs_predicted([block], load_measured(split, whole))


def test_a_json_without_bal_path_block_rows_is_named(tmp_path: Path) -> None:
    (tmp_path / "rows.json").write_text(json.dumps({"runs": {"with_bal": {"blocks": [{"exec_ms": 1.0}]}}}))
    with pytest.raises(MeasuredError, match="not import-bench block rows"):
        load_measured(tmp_path / "rows.json", tmp_path / "rows.json")
    (tmp_path / "baseline.json").write_text(json.dumps({"runs": {"baseline": {"blocks": []}}}))
    with pytest.raises(MeasuredError, match="no BAL-path run"):
        load_measured(tmp_path / "baseline.json", tmp_path / "baseline.json")


def test_the_title_names_the_chains_when_block_numbers_repeat() -> None:
    """EF tests are one chain each: 3 chains of blocks 1-2 are six blocks, not "blocks 1-2"."""
    blocks = tuple(BlockAccesses(number, (tx(0, set(), set()),)) for _ in range(3) for number in (1, 2))
    several = build_dossier(AccessSource("ef-fixtures t", 1, 2, blocks, chains=3), (1,))
    assert range_title(several) == "ef-fixtures t: 6 blocks of 3 chains (numbers 1-2)"
    one = build_dossier(AccessSource("bench-chain c", 1, 2, blocks[:2]), (1,))
    assert range_title(one) == "bench-chain c blocks 1-2"
