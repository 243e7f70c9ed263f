"""``balrex node``: the data directory, the genesis block, the JWT secret and the Engine API server.

On first start the RocksDB store under ``<datadir>/chaindata`` is initialized
with the genesis block built from a geth-style genesis (the file given, or
:mod:`client.dev_genesis`); on every later start the stored genesis hash must
equal the one built from the genesis given, else the node refuses to start.
The server is hypercorn on trio; SIGINT/SIGTERM stop it and the store is
closed (every block is one atomic batch, so even a SIGKILL leaves a store that
reopens at the last stored block).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp
import trio
from eth_hash.auto import keccak
from hypercorn.config import Config
from hypercorn.trio import serve

from engine_api.app import DEFAULT_MAX_BODY, EngineApp
from engine_api.auth import load_or_create_secret
from engine_api.methods import EngineApi
from engine_api.payload import requests_hash
from pipeline import Merkleizer, MerkleWorkerPool
from storage import MemoryStore, RocksStore

from .blockchain import Blockchain
from .chain_config import ChainConfig, config_from_geth_genesis
from .dev_genesis import dev_genesis
from .forks import FORK_VMS
from .genesis import genesis_state, parse_hex_bytes, parse_quantity

log = logging.getLogger("balrex.node")


class NodeError(RuntimeError):
    """The node cannot start (bad genesis, a data dir of another chain ...)."""


@dataclass(frozen=True)
class Genesis:
    config: ChainConfig
    alloc: Mapping[str, Mapping[str, Any]]
    block_rlp: bytes
    block_hash: bytes


def build_genesis(genesis: Mapping[str, Any]) -> Genesis:
    """The genesis block of a geth-style genesis, built with the header class of its fork.

    From Amsterdam that is the 23-field header: the BAL hash of the empty list and
    ``slotNumber`` (default 0).
    """
    config = config_from_geth_genesis(genesis["config"])
    timestamp = parse_quantity(genesis.get("timestamp", 0))
    fork = config.fork_at(timestamp)
    if fork not in FORK_VMS:
        raise NodeError(f"genesis fork {fork} does not execute in this node yet")
    block_class = FORK_VMS[fork].get_block_class()
    header_class = dict(block_class._meta.fields)["header"]
    alloc = genesis.get("alloc", {})
    state_root = genesis_state(MemoryStore(), alloc).state_root
    fields: dict[str, Any] = dict(
        parent_hash=parse_hex_bytes(genesis.get("parentHash", "0x" + "00" * 32)),
        coinbase=parse_hex_bytes(genesis.get("coinbase", "0x" + "00" * 20)),
        state_root=state_root,
        difficulty=parse_quantity(genesis.get("difficulty", 0)),
        block_number=parse_quantity(genesis.get("number", 0)),
        gas_limit=parse_quantity(genesis.get("gasLimit", 30_000_000)),
        gas_used=parse_quantity(genesis.get("gasUsed", 0)),
        timestamp=timestamp,
        extra_data=parse_hex_bytes(genesis.get("extraData", "0x")),
        mix_hash=parse_hex_bytes(genesis.get("mixHash", "0x" + "00" * 32)),
        nonce=parse_quantity(genesis.get("nonce", 0)).to_bytes(8, "big"),
        base_fee_per_gas=parse_quantity(genesis.get("baseFeePerGas", 10**9)),
        blob_gas_used=parse_quantity(genesis.get("blobGasUsed", 0)),
        excess_blob_gas=parse_quantity(genesis.get("excessBlobGas", 0)),
        parent_beacon_block_root=b"\x00" * 32,
    )
    header_fields = dict(header_class._meta.fields)
    if "requests_hash" in header_fields:
        fields["requests_hash"] = requests_hash([])
    if "block_access_list_hash" in header_fields:  # Amsterdam: the genesis has the empty BAL
        fields["block_access_list_hash"] = keccak(rlp.encode([]))
        fields["slot_number"] = parse_quantity(genesis.get("slotNumber", 0))
    header = header_class(**fields)
    block = block_class(header, transactions=[], uncles=[], withdrawals=[])
    return Genesis(config, alloc, rlp.encode(block), header.hash)


def load_genesis(path: Path | None) -> dict[str, Any]:
    if path is None:
        return dev_genesis()
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NodeError(f"cannot read genesis {path}: {exc}") from None


def open_chain(datadir: Path, genesis: Genesis) -> tuple[Blockchain, RocksStore]:
    """The blockchain over ``<datadir>/chaindata``, initialized with ``genesis`` if new."""
    store = RocksStore(datadir / "chaindata")
    blockchain = Blockchain(store, genesis.config)
    stored = blockchain.chain.canonical_hash(0)
    if stored is None:
        blockchain.init_genesis(genesis.alloc, genesis.block_rlp)
        log.info("initialized %s with genesis 0x%s", datadir, genesis.block_hash.hex())
    elif stored != genesis.block_hash:
        store.close()
        raise NodeError(
            f"{datadir} holds a chain with genesis 0x{stored.hex()}, "
            f"the genesis given is 0x{genesis.block_hash.hex()}"
        )
    return blockchain, store


def setup_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )


async def serve_engine_api(
    blockchain: Blockchain,
    secret: bytes,
    host: str,
    port: int,
    max_body: int = DEFAULT_MAX_BODY,
    merkleizer: Merkleizer | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until SIGINT or SIGTERM."""
    app = EngineApp(EngineApi(blockchain, merkleizer).dispatcher(), secret, max_body)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our log format, once
    config.graceful_timeout = 2.0
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

        async def stop() -> None:
            async for signum in signals:
                log.info("received %s, shutting down", signal.Signals(signum).name)
                return

        await serve(app, config, shutdown_trigger=stop, task_status=task_status)  # type: ignore[arg-type]


def run_node(
    datadir: Path,
    host: str,
    port: int,
    jwt_secret: Path | None,
    genesis_path: Path | None,
    max_body: int = DEFAULT_MAX_BODY,
) -> None:
    setup_logging()
    genesis = build_genesis(load_genesis(genesis_path))
    datadir.mkdir(parents=True, exist_ok=True)
    secret_path = jwt_secret if jwt_secret is not None else datadir / "jwt.hex"
    secret, created = load_or_create_secret(secret_path)
    log.info("jwt secret %s path=%s", "created" if created else "loaded", secret_path.resolve())
    blockchain, store = open_chain(datadir, genesis)
    head = blockchain.chain.head_hash()
    head_header = blockchain.header(head) if head else None
    log.info(
        "chain chain_id=%d genesis=0x%s head=0x%s number=%s",
        genesis.config.chain_id,
        genesis.block_hash.hex(),
        head.hex() if head else "-",
        head_header.block_number if head_header else "-",
    )

    pool = MerkleWorkerPool()
    pool.start()
    log.info("merkleizer workers=%d", pool.size)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                serve_engine_api, blockchain, secret, host, port, max_body, pool
            )
            log.info("engine api listening on %s", " ".join(binds))

    try:
        trio.run(main)
    finally:
        pool.close()
        store.close()
        log.info("stopped; store closed, merkleizer workers stopped")
