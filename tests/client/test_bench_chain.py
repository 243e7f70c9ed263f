"""client/bench_chain: determinism, validity on import, the reader's errors, the CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rlp
from typer.testing import CliRunner

from client.blockchain import Blockchain
from client.cli import app
from client.dev_genesis import SYSTEM_CONTRACTS
from client.forks import FORK_VMS
from client.genesis import build_genesis
from client.tools.bench_chain import BenchChain, BenchChainError, load_chain
from client.tools.bench_chain.assembler import AssemblyError, Label, Push, Ref, assemble
from client.tools.bench_chain.chain_files import split_rlp_items
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from client.tools.bench_chain.mix import AMM_SWAP, KINDS
from pipeline import import_block_sync
from storage import MemoryStore, Space

pytestmark = pytest.mark.slow  # generates and imports chains

SMALL = dict(blocks=3, txs_per_block=40, accounts=200)
SEED = 7


def _generate(root: Path, name: str, fork: str = "amsterdam", seed: int = SEED) -> Path:
    out = root / name
    generate_chain(ChainSettings(fork=fork, seed=seed, **SMALL), out)
    return out


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench-chains")
    return {
        "amsterdam": _generate(root, "amsterdam"),
        "amsterdam-again": _generate(root, "amsterdam-again"),
        "other-seed": _generate(root, "other-seed", seed=SEED + 1),
        "prague": _generate(root, "prague", fork="prague"),
    }


def _digests(directory: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(directory.iterdir())}


def test_one_seed_gives_identical_files_and_another_seed_another_chain(chains: dict[str, Path]) -> None:
    first = _digests(chains["amsterdam"])
    assert set(first) == {"genesis.json", "blocks.rlp", "bals.rlp", "chain.json"}
    assert _digests(chains["amsterdam-again"]) == first
    other = _digests(chains["other-seed"])
    assert other["blocks.rlp"] != first["blocks.rlp"]
    assert other["genesis.json"] != first["genesis.json"]


def _statuses(blockchain: Blockchain, block_hash: bytes) -> list[bool]:
    """Each receipt's status, from the stored receipts (typed ones carry a type byte first)."""
    statuses = []
    for encoded in rlp.decode(blockchain.chain.receipts_rlp(block_hash)):
        fields = rlp.decode(encoded[1:] if encoded[0] < 0x7F else encoded)
        statuses.append(fields[0] == b"\x01")
    return statuses


def _import(chain: BenchChain, with_bal: bool) -> None:
    """Import every block from genesis on a fresh chain; check head, state root and call receipts."""
    genesis = build_genesis(chain.genesis)
    blockchain = Blockchain(MemoryStore(), chain.config)
    assert (
        blockchain.init_genesis(genesis.alloc, genesis.block_rlp).hex() == chain.metadata["genesis_hash"][2:]
    )
    fork = chain.metadata["fork"]
    block_class = FORK_VMS[fork].for_chain(chain.config, fork).get_block_class()
    # The tokens, the pair and the key-value store (not the system contracts).
    contracts = {
        bytes.fromhex(address[2:])
        for address, account in chain.genesis["alloc"].items()
        if "code" in account and address not in SYSTEM_CONTRACTS
    }
    contract_calls = failed_calls = 0
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        imported = import_block_sync(blockchain, block_rlp, bal=bal if with_bal else None)
        blockchain.set_forkchoice(imported.block_hash)
        block = rlp.decode(block_rlp, sedes=block_class)
        assert imported.tx_count == len(block.transactions) == chain.metadata["txs_per_block"]
        for transaction, ok in zip(
            block.transactions, _statuses(blockchain, imported.block_hash), strict=True
        ):
            if transaction.to in contracts:
                contract_calls += 1
                failed_calls += not ok
    head = blockchain.header(blockchain.chain.head_hash())
    assert head.state_root == rlp.decode(chain.blocks[-1], sedes=block_class).header.state_root
    assert "0x" + head.hash.hex() == chain.metadata["last_block_hash"]
    assert contract_calls > len(chain.blocks) * chain.metadata["txs_per_block"] // 3
    assert failed_calls <= contract_calls // 20, "token, pair and store calls should almost all succeed"


def test_amsterdam_chain_imports_on_the_bal_path(chains: dict[str, Path]) -> None:
    chain = load_chain(chains["amsterdam"])
    assert all(bal is not None for bal in chain.bals)
    assert all(chain.metadata["tx_kinds"][kind] > 0 for kind in KINDS), chain.metadata["tx_kinds"]
    assert sum(chain.metadata["tx_kinds"].values()) == 3 * 40
    assert chain.metadata["tx_kinds"][AMM_SWAP] >= 3
    _import(chain, with_bal=True)


def test_prague_chain_imports_without_bals(chains: dict[str, Path]) -> None:
    chain = load_chain(chains["prague"])
    assert not (chains["prague"] / "bals.rlp").exists()
    assert chain.bals == [None] * 3
    assert chain.config.fork_at(0) == "prague"
    _import(chain, with_bal=False)


def test_load_chain_names_what_is_missing_or_corrupt(chains: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(BenchChainError, match="does not exist"):
        load_chain(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(chains["amsterdam"], broken)
    data = (broken / "blocks.rlp").read_bytes()
    (broken / "blocks.rlp").write_bytes(data[:-100])
    with pytest.raises(BenchChainError, match=r"blocks\.rlp does not match its sha256"):
        load_chain(broken)
    with pytest.raises(BenchChainError, match=r"blocks\.rlp: item 2 .* is truncated"):
        split_rlp_items(data[:-100], "blocks.rlp")
    (broken / "chain.json").unlink()
    with pytest.raises(BenchChainError, match=r"chain\.json is missing"):
        load_chain(broken)


def test_assembler_resolves_labels_and_sizes_pushes() -> None:
    code = assemble([0, 1, 256, Push(1, 4), Ref("end"), "JUMP", Label("end"), "STOP"])
    assert code.hex() == "5f" + "6001" + "610100" + "6300000001" + "61000f" + "56" + "5b" + "00"
    with pytest.raises(AssemblyError, match="undefined label"):
        assemble([Ref("nowhere")])


runner = CliRunner()


def test_cli_writes_the_same_chain_in_process_and_through_the_script(tmp_path: Path) -> None:
    """The script runs with another hash seed: nothing may depend on str hashing or set order.

    Its second run overwrites the chain the first wrote, which is allowed.
    """
    args = ["bench-chain", "--fork", "prague", "--blocks", "2", "--txs-per-block", "5"]
    args += ["--seed", "3", "--accounts", "150", "--out"]
    result = runner.invoke(app, [*args, str(tmp_path / "in-process")])
    assert result.exit_code == 0, result.output
    assert "2 blocks, 10 txs" in result.output and str(tmp_path / "in-process") in result.output
    script = shutil.which("balrex", path=str(Path(sys.executable).parent))
    assert script, "the balrex console script is not installed next to this interpreter"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    for _ in range(2):
        done = subprocess.run(
            [script, *args, str(tmp_path / "script")], capture_output=True, text=True, timeout=120, env=env
        )
        assert done.returncode == 0, done.stderr
    assert _digests(tmp_path / "script") == _digests(tmp_path / "in-process")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--blocks", "0"], "--blocks must be at least 1"),
        (["--fork", "london"], "unknown fork 'london'"),
        (["--accounts", "10"], "--accounts must be at least"),
    ],
)
def test_cli_rejects_bad_arguments(tmp_path: Path, extra: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench-chain", "--out", str(tmp_path / "chain"), *extra])
    assert result.exit_code == 1
    assert message in result.output


def test_cli_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["bench-chain", "--blocks", "1", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not empty and does not hold a bench chain" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _dump(store: MemoryStore) -> dict[object, dict[bytes, bytes]]:
    return {space: dict(store.iterate(space)) for space in Space}


def test_a_chain_crossing_into_amsterdam_imports_alike_on_both_paths(tmp_path: Path) -> None:
    """BPO2 blocks 1-2, Amsterdam from block 3: streaming and BAL path store the same bytes."""
    out = tmp_path / "bpo2-to-amsterdam"
    generate_chain(ChainSettings(fork="amsterdam", seed=SEED, amsterdam_at=3, **SMALL), out)
    chain = load_chain(out)
    assert chain.metadata["first_bal_block"] == 3
    assert [bal is None for bal in chain.bals] == [True, True, False]
    header_fields = [len(rlp.decode(block)[0]) for block in chain.blocks]
    assert header_fields[:2] == [21, 21] and header_fields[2] == 23  # BAL hash and slot number appear
    forks = [chain.config.fork_at(int.from_bytes(rlp.decode(b)[0][11], "big")) for b in chain.blocks]
    assert forks == ["bpo2", "bpo2", "amsterdam"]
    dumps = []
    for with_bal in (False, True):
        genesis = build_genesis(chain.genesis)
        store = MemoryStore()
        blockchain = Blockchain(store, chain.config)
        blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
        for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
            imported = import_block_sync(blockchain, block_rlp, bal=bal if with_bal else None)
            blockchain.set_forkchoice(imported.block_hash)
        assert blockchain.chain.head_hash().hex() == chain.metadata["last_block_hash"][2:]
        dumps.append(_dump(store))
    assert dumps[0] == dumps[1]


def test_amsterdam_at_is_checked() -> None:
    with pytest.raises(BenchChainError, match="--amsterdam-at needs --fork amsterdam"):
        ChainSettings(fork="prague", seed=1, amsterdam_at=2, **SMALL).check()
    with pytest.raises(BenchChainError, match="one of the blocks 1..3"):
        ChainSettings(fork="amsterdam", seed=1, amsterdam_at=4, **SMALL).check()
