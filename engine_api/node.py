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
import time
from pathlib import Path
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from client.blockchain import Blockchain
from client.chain_config import FORK_ORDER, ChainConfig, Fork, config_from_geth_genesis
from client.dev_genesis import dev_genesis
from client.genesis import Genesis, build_genesis
from client.later_part_worker import later_part_pool
from client.txpool import TxPool
from pipeline import LaterPartPool, Merkleizer, MerkleWorkerPool
from pipeline.cores import available_cores, pin, plan_cores
from pipeline.interpreter import freeze_live_objects, set_up_for_blocks
from storage import RocksStore, StoreLayoutError

from .app import DEFAULT_LIMITS, EngineApp, HttpLimits, limit_recursion
from .auth import load_or_create_secret
from .dev import DevProducer, DevProducerOptions
from .methods import EngineApi
from .public_server import PublicRpcOptions, serve_public_api

log = logging.getLogger("balrex.node")



class NodeError(RuntimeError):
    """The node cannot start (bad genesis, a data dir of another chain ...)."""


def load_genesis(path: Path | None) -> dict[str, Any]:
    if path is None:
        return dev_genesis()
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NodeError(f"cannot read genesis {path}: {exc}") from None


def open_chain(datadir: Path, genesis: Genesis) -> tuple[Blockchain, RocksStore]:
    """The blockchain over ``<datadir>/chaindata``, initialized with ``genesis`` if new."""
    try:
        store = RocksStore(datadir / "chaindata")
    except StoreLayoutError as exc:
        raise NodeError(str(exc)) from None
    blockchain = Blockchain(store, genesis.config)
    stored = blockchain.chain.canonical_hash(0)
    if stored is None:
        blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
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
    limits: HttpLimits = DEFAULT_LIMITS,
    merkleizer: Merkleizer | None = None,
    later_parts: LaterPartPool | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
    api: EngineApi | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (``api``: methods shared with the public server)."""
    api = api if api is not None else EngineApi(blockchain, merkleizer, later_parts)
    app = EngineApp(api.dispatcher(), secret, limits)
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


class WorkerPools:
    """The BAL path's worker processes (merkleizer, later part); none for a chain that never takes it.

    Only Amsterdam blocks (newPayloadV5, with a BAL) use them: a chain whose
    config schedules no such fork would start processes that no block can ever
    call. They are launched first thing, while the node has one thread, so they
    are forked (``pipeline.processes``) and ready in a fraction of a second.
    With ``pin_cores`` the node's process and the later-part worker each get a
    core of their own, and the merkleizer the rest (``pipeline.cores``).
    """

    def __init__(self, config: ChainConfig, *, pin_cores: bool = True) -> None:
        self.merkleizer: MerkleWorkerPool | None = None
        self.later_parts: LaterPartPool | None = None
        if not any(
            FORK_ORDER.index(fork) >= FORK_ORDER.index(Fork.AMSTERDAM) for fork, _ in config.fork_times
        ):
            log.info("no worker processes: the chain schedules no fork with block access lists")
            return
        plan = plan_cores(available_cores()) if pin_cores else None
        if plan is not None:
            pin(plan.node)
            log.info(
                "cores: node %s, later-part worker %s, merkleizer %s",
                *(",".join(map(str, sorted(cores))) for cores in (plan.node, plan.later_part, plan.merkle)),
            )
        # Both pools' processes start now, side by side, and import while the node builds the
        # genesis and opens the store; wait_ready waits for them.
        self.merkleizer = MerkleWorkerPool(cores=plan and plan.merkle)
        log.info("starting %d merkleizer worker(s)", self.merkleizer.size)
        self.merkleizer.launch()
        self.later_parts = later_part_pool(cores=plan and plan.later_part)
        log.info("starting the later-part worker")
        self.later_parts.launch()

    def wait_ready(self, started: float, store: RocksStore) -> None:
        """Wait until every worker answers and has opened its handle on ``store`` (else the first
        block would pay for starting Python and for opening the handles)."""
        if self.merkleizer is not None:
            self.merkleizer.start(store)
            log.info(
                "merkleizer workers=%d ready at %.1f s", self.merkleizer.size, time.monotonic() - started
            )
        if self.later_parts is not None:
            self.later_parts.start(store)
            log.info("later-part workers=1 ready at %.1f s", time.monotonic() - started)

    def close(self) -> None:
        for pool in (self.merkleizer, self.later_parts):
            if pool is not None:
                pool.close()


def run_node(
    datadir: Path,
    host: str,
    port: int,
    jwt_secret: Path | None,
    genesis_path: Path | None,
    limits: HttpLimits = DEFAULT_LIMITS,
    public: PublicRpcOptions | None = None,
    producer: DevProducerOptions | None = None,
    pin_cores: bool = True,
) -> None:
    """``public``: the public ``eth_`` server's options (``--http``), None for none (the default).

    ``pin_cores``: give the BAL path's processes a core each (``WorkerPools``).

    ``producer``: ``balrex dev``'s block producer, driving the Engine API each slot.
    """
    started = time.monotonic()
    setup_logging()
    log.info("starting balrex node datadir=%s", datadir.resolve())
    log.info("recursion limit %d (py-evm's; py_ecc had raised it)", limit_recursion())
    set_up_for_blocks()
    genesis_json = load_genesis(genesis_path)
    workers = WorkerPools(config_from_geth_genesis(genesis_json.get("config", {})), pin_cores=pin_cores)
    try:
        genesis = build_genesis(genesis_json)
        datadir.mkdir(parents=True, exist_ok=True)
        secret_path = jwt_secret if jwt_secret is not None else datadir / "jwt.hex"
        secret, created = load_or_create_secret(secret_path)
        log.info("jwt secret %s path=%s", "created" if created else "loaded", secret_path.resolve())
        blockchain, store = open_chain(datadir, genesis)
        try:
            head = blockchain.chain.head_hash()
            head_header = blockchain.header(head) if head else None
            log.info(
                "chain chain_id=%d genesis=0x%s head=0x%s number=%s",
                genesis.config.chain_id,
                genesis.block_hash.hex(),
                head.hex() if head else "-",
                head_header.block_number if head_header else "-",
            )
            log.info("store opened at %.1f s", time.monotonic() - started)
            workers.wait_ready(started, store)
            freeze_live_objects()
            tx_pool = TxPool(genesis.config.chain_id, public.pool if public is not None else None)
            api = EngineApi(blockchain, workers.merkleizer, workers.later_parts, tx_pool)
            trio.run(_serve_apis, api, genesis, secret, host, port, limits, public, producer, started)
        finally:
            store.close()
    finally:
        workers.close()
        log.info("stopped; store closed, worker processes stopped")


async def _serve_apis(
    api: EngineApi,
    genesis: Genesis,
    secret: bytes,
    host: str,
    port: int,
    limits: HttpLimits,
    public: PublicRpcOptions | None,
    producer: DevProducerOptions | None,
    started: float,
) -> None:
    """The Engine API server (and the public one, and the dev producer) until SIGINT/SIGTERM."""
    stopped = trio.Event()

    async def engine_server(task_status: trio.TaskStatus[list[str]]) -> None:
        await serve_engine_api(
            api.context.blockchain,
            secret,
            host,
            port,
            limits,
            api.context.merkleizer,
            api.context.later_parts,
            task_status,
            api=api,
        )
        stopped.set()  # SIGINT/SIGTERM: the public server follows

    async with trio.open_nursery() as nursery:
        log.info("starting the HTTP server on %s:%d", host, port)
        binds = await nursery.start(engine_server)
        log.info("engine api listening on %s; started in %.1f s", " ".join(binds), time.monotonic() - started)
        if public is not None:
            public_binds = await nursery.start(serve_public_api, api, public, stopped)
            log.info("json-rpc (eth_, no auth) listening on %s", " ".join(public_binds))
        if producer is not None:
            dev = DevProducer(binds[0], secret, genesis.config, producer)
            nursery.start_soon(dev.run, stopped)
            log.info("dev block producer: one block every %s s", producer.slot_seconds)
