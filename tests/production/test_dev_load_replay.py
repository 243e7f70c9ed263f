"""Issue #19's done-when, at small size: a loaded dev chain replays on a fresh node with identical state.

``balrex dev`` runs; ``balrex dev load`` sends 300 transactions of every
kind over at least 6 blocks; the node is stopped with Ctrl-C and ``balrex
export`` writes its chain; a fresh ``balrex node`` on the exported genesis
is fed every block by ``balrex payloads --send`` (engine_newPayloadV5 and
forkchoiceUpdatedV4 over HTTP, JWT) and must end on the same head hash and
state root, with the same balances and nonces; ``balrex import-bench
--with-bal`` accepts the export.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import rlp
from dev_process import DevChain
from engine_harness import BALREX, Node, free_port
from eth_hash.auto import keccak

from client.dev_chain import dev_accounts
from client.tools.bench_chain import load_chain
from client.tools.dev_load import KINDS, load_keys

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TXS, MIN_BLOCKS, SENDERS = 300, 6, 4


def _balrex(*args: str, timeout: float = 600) -> str:
    done = subprocess.run([str(BALREX), *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _accounts() -> list[str]:
    addresses = [account.address for account in dev_accounts()]
    addresses += [key.public_key.to_canonical_address() for key in load_keys(SENDERS)]
    return ["0x" + address.hex() for address in addresses]


def _accounts_at_head(rpc: Any) -> dict[str, tuple[str, str]]:
    """Every sender's balance and nonce at the head."""
    return {
        address: (rpc("eth_getBalance", address, "latest"), rpc("eth_getTransactionCount", address, "latest"))
        for address in _accounts()
    }


def _last_header(exported: Path) -> tuple[str, str, int]:
    """Hash, state root and number of the exported chain's last block, as the source node stored it."""
    header = rlp.decode(load_chain(exported).blocks[-1])[0]
    return "0x" + keccak(rlp.encode(header)).hex(), "0x" + header[3].hex(), int.from_bytes(header[8], "big")


def test_loaded_dev_chain_replays_on_a_fresh_node(tmp_path: Path) -> None:
    dev = DevChain(tmp_path)
    try:
        dev.start()
        args = ["--txs", str(TXS), "--min-blocks", str(MIN_BLOCKS), "--senders", str(SENDERS)]
        report = json.loads(_balrex("dev", "load", *args, "--rpc", dev.rpc_url))
        # The producer goes on with empty blocks until the stop: no account below changes meanwhile.
        accounts = _accounts_at_head(dev.rpc)
        dev.stop()
    finally:
        dev.kill()
    assert report["sent"] == report["included"] == TXS and report["failed_receipts"] == 0
    assert set(KINDS) <= set(report["sent_by_kind"]) and report["blocks"] >= MIN_BLOCKS

    exported = tmp_path / "exported"
    _balrex("export", str(dev.datadir), "--out", str(exported))
    metadata = json.loads((exported / "chain.json").read_text())
    head_hash, state_root, head_number = _last_header(exported)
    assert metadata["txs"] == TXS and metadata["last_block_hash"] == head_hash

    http_port = free_port()
    fresh = Node(tmp_path / "fresh", json.loads((exported / "genesis.json").read_text()))
    fresh.extra_args = ("--http", "--http.port", str(http_port))
    fresh.start(timeout=120)
    try:
        sent = _balrex("payloads", str(exported), "--send", fresh.url, "--jwt-secret", str(fresh.secret_path))
        statuses = [line.split()[-1] for line in sent.splitlines()]
        assert len(statuses) == 2 * head_number and set(statuses) == {"VALID"}

        def public(method: str, *params: Any) -> Any:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
            return httpx.post(f"http://127.0.0.1:{http_port}", json=body, timeout=60).json()["result"]

        head = public("eth_getBlockByNumber", "latest", False)
        assert (head["hash"], head["stateRoot"]) == (head_hash, state_root)
        assert _accounts_at_head(public) == accounts
    finally:
        fresh.kill()

    bench = _balrex("import-bench", str(exported), "--with-bal", "--workers", "1")
    assert f"{TXS} txs" in bench
