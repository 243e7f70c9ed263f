"""``balrex dossier chain`` on blocks balrex executes: a bench chain, a data dir holding it, an EF file."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from fixture_files import release_archive
from typer.testing import CliRunner

import client.tools.dossier.beside as beside
from bal import BlockAccessList, encode_bal, synthesize_deltas
from client.blockchain import Blockchain
from client.cli import app
from client.genesis import alloc_to_deltas, build_genesis
from client.tools.bench_chain import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from client.tools.dossier.chain import CHAINDATA, BlockRange, observe_chain
from client.tools.dossier.claimed_state import ClaimedState
from client.tools.dossier.dossier import build_dossier, range_title
from client.tools.dossier.execution import ObservingBlockchain
from client.tools.dossier.views import block_views, compare_views
from pipeline import import_block_sync
from pipeline.later_part import MAX_FIRST_SHARE, MIN_FIRST_SHARE
from storage import EMPTY_ROOT, Chain, FlatState, MemoryStore, RocksStore

pytestmark = pytest.mark.slow  # generates and imports chains

BLOCKS, TXS = 2, 24
READS_FIXTURE = (
    "blockchain_tests/for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists/"
    "bal_2930_slot_listed_and_unlisted_reads.json"
)


@pytest.fixture(scope="module")
def bench_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dossier-chain") / "chain"
    generate_chain(
        ChainSettings(fork="amsterdam", blocks=BLOCKS, txs_per_block=TXS, seed=3, accounts=200), out
    )
    return out


def test_one_import_both_stores_the_block_and_observes_each_transaction(bench_chain: Path) -> None:
    chain = load_chain(bench_chain)
    genesis = build_genesis(chain.genesis)
    blockchain = ObservingBlockchain(MemoryStore(), genesis.config)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    for block_rlp, given in zip(chain.blocks, chain.bals, strict=True):
        imported = import_block_sync(blockchain, block_rlp)  # checks the state root and the BAL hash
        observed = blockchain.take_observed()
        assert observed is not None and observed.number == imported.number
        assert blockchain.take_observed() is None  # handed over once
        assert observed.block_access_list == given  # the recorder was fed as in a normal import
        assert sorted(observed.units) == list(range(TXS + 2))  # pre-execution, each tx, post-execution
        assert len(observed.transactions) == TXS
        every_touch = set().union(*(unit.touched for unit in observed.units.values()))
        assert every_touch == {account.address for account in given.accounts}
        blockchain.set_forkchoice(imported.block_hash)
    assert blockchain.chain.head_hash() == chain_last_hash(bench_chain)


def chain_last_hash(path: Path) -> bytes:
    return bytes.fromhex(json.loads((path / "chain.json").read_text())["last_block_hash"].removeprefix("0x"))


def test_views_of_a_bench_chain(bench_chain: Path) -> None:
    views = observe_chain(bench_chain)
    assert (len(views.execution), views.invalid_blocks, views.unobservable_blocks) == (BLOCKS, 0, 0)
    execution_source, bal_source = views.sources()
    execution, bal = build_dossier(execution_source, (1, 4)), build_dossier(bal_source, (1, 4))
    assert execution.fields["tx_count"] == bal.fields["tx_count"] == BLOCKS * TXS
    difference = compare_views(execution.graphs, bal.graphs, views.bal_unindexed_reads)
    # same writes; the BAL view's conflicts are a subset of execution's
    for name in (
        "account_write_keys_execution_only",
        "storage_write_keys_execution_only",
        "conflict_pairs_bal_only",
    ):
        assert difference[name] == 0, name
    assert bal.fields["conflict_pair_count"] <= execution.fields["conflict_pair_count"]
    assert difference["account_read_keys_execution_only"] > 0  # contract code reads the BAL cannot place


def _within_split_bounds(later_txs: int) -> bool:
    """The later part's size the pool's share bounds allow (``pipeline.later_part``)."""
    return round(TXS * (1 - MAX_FIRST_SHARE)) <= later_txs <= round(TXS * (1 - MIN_FIRST_SHARE))


def test_split_run_observes_what_a_whole_run_does(bench_chain: Path) -> None:
    """The later half of each block runs in the observing worker: its units and senders come back."""
    split = observe_chain(bench_chain, measure_split=True)
    later = [run.split.later_txs if run.split else None for run in split.runs]
    assert later[0] == TXS // 2  # the first split is even; then it follows the parts' rates
    assert all(part is not None and _within_split_bounds(part) for part in later), later
    chain = load_chain(bench_chain)
    genesis = build_genesis(chain.genesis)
    blockchain = ObservingBlockchain(MemoryStore(), genesis.config)  # no later parts: every block whole
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    for block_rlp, seen in zip(chain.blocks, split.execution, strict=True):
        import_block_sync(blockchain, block_rlp)
        observed = blockchain.take_observed()
        assert observed is not None and observed.split is None
        assert block_views(observed).execution == seen
        assert observed.senders == tuple(bytes(transaction.sender) for transaction in observed.transactions)
    assert len(split.oracle) == BLOCKS


def test_blocks_on_claimed_states_give_the_views_an_import_gives(bench_chain: Path) -> None:
    """By default each block runs whole on the state its BALs claim, on two processes: same views."""
    parallel = observe_chain(bench_chain)
    imported = observe_chain(bench_chain, measure_split=True)
    assert (parallel.chains, parallel.invalid_blocks, parallel.unobservable_blocks) == (1, 0, 0)
    assert [block.number for block in parallel.execution] == list(range(1, BLOCKS + 1))
    assert parallel.execution == imported.execution
    assert parallel.bal == imported.bal
    assert parallel.oracle == imported.oracle
    assert parallel.bal_unindexed_reads == imported.bal_unindexed_reads
    assert [run.split for run in parallel.runs] == [None] * BLOCKS  # whole blocks: no split measured
    assert all(run.exec_seconds > 0 for run in parallel.runs)


def test_without_a_fork_every_block_is_observed_here(
    bench_chain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "can_fork", lambda: False)
    alone = observe_chain(bench_chain)
    monkeypatch.undo()
    assert alone.execution == observe_chain(bench_chain).execution and len(alone.execution) == BLOCKS


def test_claimed_state_after_the_bals_is_the_imported_flat_state(bench_chain: Path) -> None:
    """Genesis plus every block's BAL gives the flat state a node holds after importing the blocks."""
    chain = load_chain(bench_chain)
    genesis = build_genesis(chain.genesis)
    blockchain = Blockchain(MemoryStore(), genesis.config)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    claimed = ClaimedState()
    claimed.apply(alloc_to_deltas(chain.genesis["alloc"]))
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        blockchain.set_forkchoice(import_block_sync(blockchain, block_rlp, bal).block_hash)
        assert bal is not None
        claimed.apply(synthesize_deltas(bal))
    node = FlatState(blockchain.store)
    addresses = sorted(node.addresses())
    assert sorted(claimed.accounts) == addresses and len(addresses) > 200
    for address in addresses:
        expected, record = node.account(address), claimed.accounts[address]
        assert expected is not None
        assert (record.nonce, record.balance, record.code_hash) == (
            expected.nonce,
            expected.balance,
            expected.code_hash,
        )
        assert (record.storage_root == EMPTY_ROOT) == (expected.storage_root == EMPTY_ROOT)
        assert claimed.code[record.code_hash] == node.code(expected.code_hash)
    assert claimed.storage == {
        (address, slot): value for address in addresses for slot, value in node.storage_items(address)
    }


def _with_bad_bal(bench_chain: Path, out: Path) -> Path:
    """A copy of the bench chain whose last block's BAL changes one balance (no longer the header's hash)."""
    shutil.copytree(bench_chain, out)
    chain = load_chain(out)
    last = chain.bals[-1]
    assert last is not None
    account = next(account for account in last.accounts if account.balance_changes)
    change = account.balance_changes[0]
    changed = replace(change, post_balance=change.post_balance + 1)
    edited = replace(account, balance_changes=(changed, *account.balance_changes[1:]))
    accounts = tuple(edited if item is account else item for item in last.accounts)
    bals = [bal for bal in chain.bals if bal is not None][:-1] + [BlockAccessList(accounts)]  # no cached RLP
    encoded = b"".join(encode_bal(bal) for bal in bals)
    (out / "bals.rlp").write_bytes(encoded)
    metadata = json.loads((out / "chain.json").read_text())
    metadata["files"]["bals.rlp"] = hashlib.sha256(encoded).hexdigest()
    (out / "chain.json").write_text(json.dumps(metadata))
    return out


@pytest.mark.parametrize("measure_split", [False, True])
def test_an_invalid_block_is_left_out_with_what_follows(
    bench_chain: Path, tmp_path: Path, measure_split: bool
) -> None:
    views = observe_chain(_with_bad_bal(bench_chain, tmp_path / "bad"), measure_split=measure_split)
    assert views.invalid_blocks == 1
    assert [block.number for block in views.execution] == list(range(1, BLOCKS))


def test_measure_split_is_for_a_bench_chain(tmp_path: Path) -> None:
    (tmp_path / "fixture.json").write_text("{}")
    result = CliRunner().invoke(app, ["dossier", "chain", str(tmp_path / "fixture.json"), "--measure-split"])
    assert result.exit_code == 1 and "--measure-split imports a bench chain" in result.output, result.output


def test_keeping_the_coinbase_serializes_every_block(bench_chain: Path) -> None:
    views = observe_chain(bench_chain, keep_coinbase=True)
    fields = build_dossier(views.sources()[0], (1, 2)).fields
    assert fields["conflict_pair_count"] == fields["possible_pair_count"]
    assert fields["wave_count"] == BLOCKS * TXS


def test_cli_on_the_bench_chain(bench_chain: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["dossier", "chain", str(bench_chain), "--workers", "1,2,4", "--measure-split"]
        + ["--json", str(out / "c.json"), "--markdown", str(out / "c.md"), "--html", str(out / "c.html")],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "c.json").read_text())
    assert set(report) == {"source", "execution", "bal", "difference", "bal_ceiling", "oracle", "measured"}
    assert report["execution"]["workers"] == [1, 2, 4]
    # No import-bench JSON given: the speedup balrex's split measured in this very run.
    measured = report["measured"]
    assert (measured["method"], measured["split_blocks"]) == ("this run", BLOCKS)
    for row in measured["blocks"]:
        assert _within_split_bounds(row["later_txs"])
        assert row["measured_speedup"] == pytest.approx(row["serial_exec_ms"] / row["split_exec_ms"])
    markdown = (out / "c.md").read_text()
    assert "| serial exec ms |" in markdown and "(sum serial exec / sum split exec)" in markdown
    # Without dependencies a BAL's ceiling is at least what the execution view's dependencies allow.
    for free, bound in zip(
        report["bal_ceiling"]["worker_simulation"], report["execution"]["worker_simulation"], strict=True
    ):
        assert free["speedup_vs_one_worker"] >= bound["speedup_vs_one_worker"] - 1e-9
    # Every sender's account key is predicted and touched: precision and recall are both above zero.
    assert report["oracle"]["account_keys"]["both"] >= BLOCKS * TXS
    for heading in ("## Execution view and BAL view", "## BAL ceiling", "## Pre-execution oracle"):
        assert heading in (out / "c.md").read_text()
    assert '<h2 id="pre-execution-oracle">' in (out / "c.html").read_text()


def test_cli_on_the_bench_chain_by_default_measures_no_split(bench_chain: Path, tmp_path: Path) -> None:
    report_json, report_md = tmp_path / "c.json", tmp_path / "c.md"
    options = ["--json", str(report_json), "--markdown", str(report_md)]
    result = CliRunner().invoke(app, ["dossier", "chain", str(bench_chain), *options])
    assert result.exit_code == 0, result.output
    assert "measured split speedup: no block ran split (--measure-split for a bench chain" in result.output
    assert json.loads(report_json.read_text())["measured"] is None
    report = report_md.read_text()
    assert "a bench chain's blocks run whole, on both cores" in report and "| blocks split | 0 |" in report


def test_ef_fixture_reads_the_bal_cannot_place(tmp_path: Path) -> None:
    with tarfile.open(release_archive("for_amsterdam.tar.gz")) as archive:
        archive.extract(READS_FIXTURE, tmp_path, filter="data")
    views = observe_chain(tmp_path / READS_FIXTURE)
    assert views.chains >= 1 and views.execution
    execution_source, bal_source = views.sources()
    execution, bal = build_dossier(execution_source, (1, 2)), build_dossier(bal_source, (1, 2))
    difference = compare_views(execution.graphs, bal.graphs, views.bal_unindexed_reads)
    assert difference["storage_read_keys_execution_only"] > 0
    assert difference["bal_unindexed_read_keys"] > 0
    chains = len({run.chain for run in views.runs})
    assert execution_source.chains == chains
    if chains > 1:
        assert f"of {chains} chains" in range_title(execution)


def test_not_a_chain_source(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = CliRunner().invoke(app, ["dossier", "chain", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1
    assert "neither a bench-chain folder, a node's data dir nor an EF fixture" in result.output


@pytest.fixture(scope="module")
def datadir(bench_chain: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node's data dir holding the bench chain (imported as ``balrex node`` stores blocks)."""
    path = tmp_path_factory.mktemp("dossier-datadir")
    chain = load_chain(bench_chain)
    genesis = build_genesis(chain.genesis)
    store = RocksStore(path / CHAINDATA)
    blockchain = Blockchain(store, genesis.config)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        blockchain.set_forkchoice(import_block_sync(blockchain, block_rlp, bal).block_hash)
    store.close()
    (path / "genesis.json").write_text(json.dumps(chain.genesis))
    return path


def test_a_data_dir_executed_again_gives_the_views_its_import_gave(bench_chain: Path, datadir: Path) -> None:
    """Stored blocks run again on their parents' states (the tries): same touches, units and BALs.

    The node keeps its data dir open (the dossier reads through a RocksDB secondary) and sees no change.
    """
    imported = observe_chain(bench_chain)
    running_node = RocksStore(datadir / CHAINDATA)
    try:
        head = Chain(running_node).head_hash()
        replayed = observe_chain(datadir)
        assert Chain(running_node).head_hash() == head == chain_last_hash(bench_chain)
    finally:
        running_node.close()
    assert (replayed.chains, replayed.invalid_blocks, replayed.unobservable_blocks) == (1, 0, 0)
    assert replayed.execution == imported.execution and len(replayed.execution) == BLOCKS
    assert replayed.bal == imported.bal
    assert replayed.oracle == imported.oracle
    assert replayed.bal_unindexed_reads == imported.bal_unindexed_reads
    # Each block ran whole in this process: no split was measured.
    assert [run.split for run in replayed.runs] == [None] * BLOCKS
    assert all(run.exec_seconds > 0 for run in replayed.runs)


def test_a_data_dir_range_executes_only_its_blocks(bench_chain: Path, datadir: Path) -> None:
    second = observe_chain(datadir, blocks=BlockRange(2, 2))
    assert [block.number for block in second.execution] == [2]
    assert second.execution == observe_chain(bench_chain).execution[1:]


def test_the_report_of_a_data_dir_says_why_no_split_was_measured(datadir: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.md"
    result = CliRunner().invoke(app, ["dossier", "chain", str(datadir), "--to", "1", "--markdown", str(out)])
    assert result.exit_code == 0, result.output
    report = out.read_text()
    assert "## Measured BAL-parallel speedup (2 workers)" in report
    assert "a data dir's stored blocks are executed whole" in report and "| blocks split | 0 |" in report


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--to", "3"], f"--to 3: the data dir's head is block {BLOCKS}"),
        (["--from", "3"], f"--from 3: the data dir's head is block {BLOCKS}"),
        (["--from", "0"], "--from 0: block 0 is the genesis"),
        (["--from", "2", "--to", "1"], "--from 2 is after --to 1"),
    ],
)
def test_a_data_dir_range_outside_the_chain_is_named(datadir: Path, options: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["dossier", "chain", str(datadir), *options])
    assert result.exit_code == 1 and message in result.output, result.output


def test_a_data_dir_with_another_genesis_is_refused(datadir: Path, tmp_path: Path) -> None:
    other = json.loads((datadir / "genesis.json").read_text())
    other["timestamp"] = "0x1"
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = CliRunner().invoke(
        app, ["dossier", "chain", str(datadir), "--genesis", str(tmp_path / "other.json")]
    )
    assert result.exit_code == 1, result.output
    assert "the data dir's genesis is 0x" in result.output and "--genesis names" in result.output


def test_block_options_belong_to_a_data_dir(bench_chain: Path) -> None:
    result = CliRunner().invoke(app, ["dossier", "chain", str(bench_chain), "--from", "1"])
    assert result.exit_code == 1 and "select blocks of a node's data dir" in result.output
