"""Payload build processes: started by ``forkchoiceUpdated`` with attributes, read by ``getPayload``.

A build is identified by its ``payloadId``: 8 bytes of a sha256 over the
parent and every attribute, its first byte the attributes' version (as geth
does), so the same request names the same build and a repeated
``forkchoiceUpdated`` does not start a second one.

A build is a system task started right after the forkchoice update
answered. Each round takes the import lock (it reads the parent state, which
the flat state holds only while no forkchoice moves it), snapshots the pool's
pending transactions at the next block's fees, and runs
:func:`client.block_builder.build_block` in a worker thread; transactions the
fork refused leave the pool. ``getPayload`` waits for the first round, then
answers the best payload so far and ends the build. Until then the build is
refined, as geth's miner does: every ``recommit_seconds`` (geth's
``--miner.recommit`` default, 2 s) it builds again if the pool changed since
its last snapshot, and keeps the new payload if it pays the fee recipient
more (``blockValue``); it stops refining ``refine_seconds`` after it started
(12 s, one slot: geth's limit). Blob transactions go in only with a sidecar
of the payload fork's kind (blob proofs before Osaka, cell proofs from Osaka
on: EIP-7594), since the blobs bundle must carry those proofs.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial

import rlp
import trio
from eth.abc import BlockHeaderAPI

from client.blob_sidecar import BlobSidecar
from client.block_builder import BlockAttributes, ProducedBlock, build_block
from client.chain_config import Fork
from client.head_state import view_at
from client.txpool import PendingQueue, PoolTransaction
from storage import FLAT_STATE_BLOCK

from .context import EngineContext
from .eth_context import EthContext

log = logging.getLogger("balrex.engine")

# Sidecars carry cell proofs (EIP-7594, wrapper version 1) from Osaka on.
CELL_PROOF_FORKS = (Fork.OSAKA, Fork.BPO1, Fork.BPO2, Fork.AMSTERDAM)
# Builds kept for getPayload (a consensus client asks for the latest one or two).
KEPT_BUILDS = 16
# How often a build looks at the pool again, and for how long it refines (geth's defaults).
DEFAULT_RECOMMIT_SECONDS = 2.0
DEFAULT_REFINE_SECONDS = 12.0


def payload_id(version: int, parent_hash: bytes, attributes: BlockAttributes) -> bytes:
    """The build's id: its attributes' version, then 7 bytes of a hash of the parent and attributes."""
    digest = hashlib.sha256()
    digest.update(parent_hash)
    digest.update(attributes.timestamp.to_bytes(8, "big"))
    digest.update(attributes.prev_randao)
    digest.update(attributes.fee_recipient)
    digest.update(rlp.encode(list(attributes.withdrawals)))
    digest.update(attributes.parent_beacon_block_root)
    if attributes.slot_number is not None:
        digest.update(attributes.slot_number.to_bytes(8, "big"))
    return bytes([version]) + digest.digest()[:7]


class BuildFailed(RuntimeError):
    """The build process ended without a payload (its message says why)."""


@dataclass
class PayloadBuild:
    payload_id: bytes
    parent: BlockHeaderAPI
    attributes: BlockAttributes
    # Set when the first round ended (with a payload or an error).
    finished: trio.Event = field(default_factory=trio.Event)
    # Set by getPayload (or when the build is evicted): no more rounds, the best payload stays.
    resolved: trio.Event = field(default_factory=trio.Event)
    produced: ProducedBlock | None = None  # the best payload so far
    error: str | None = None
    pool_changes: int = -1  # the pool's change count at the last round's snapshot
    rounds: int = 0

    @property
    def sidecars(self) -> list[BlobSidecar]:
        """The included blob transactions' sidecars, in block order."""
        assert self.produced is not None
        return [
            candidate.sidecar
            for candidate in self.produced.included
            if isinstance(candidate, PoolTransaction) and candidate.sidecar is not None
        ]

    async def result(self) -> ProducedBlock:
        """The best payload once the first round ended; no round after this call replaces it."""
        await self.finished.wait()
        self.resolved.set()
        if self.produced is None:
            raise BuildFailed(self.error or "the build produced nothing")
        return self.produced

    def offer(self, produced: ProducedBlock) -> bool:
        """Keep ``produced`` if it is the first payload or pays more than the best; whether it was kept."""
        if self.resolved.is_set():
            return False
        if self.produced is not None and produced.block_value <= self.produced.block_value:
            return False
        self.produced = produced
        return True


class _WithSidecarsOf:
    """The pool's pending queue without blob transactions whose sidecar is not of the payload's fork."""

    def __init__(self, queue: PendingQueue, cell_proofs: bool) -> None:
        self._queue = queue
        self._wrapper_version = 1 if cell_proofs else 0

    def peek(self) -> PoolTransaction | None:
        while (best := self._queue.peek()) is not None:
            if best.sidecar is None or best.sidecar.wrapper_version == self._wrapper_version:
                return best
            self._queue.pop()
        return None

    def shift(self) -> None:
        self._queue.shift()

    def pop(self) -> None:
        self._queue.pop()


class PayloadBuilds:
    def __init__(
        self,
        context: EngineContext,
        eth: EthContext,
        recommit_seconds: float = DEFAULT_RECOMMIT_SECONDS,
        refine_seconds: float = DEFAULT_REFINE_SECONDS,
    ) -> None:
        self.context = context
        self.eth = eth
        self.recommit_seconds = recommit_seconds
        self.refine_seconds = refine_seconds
        self._builds: OrderedDict[bytes, PayloadBuild] = OrderedDict()

    def __len__(self) -> int:
        return len(self._builds)

    def get(self, build_id: bytes) -> PayloadBuild | None:
        return self._builds.get(build_id)

    def start(self, version: int, parent: BlockHeaderAPI, attributes: BlockAttributes) -> bytes:
        """Start building on ``parent`` (unless this very build exists); return its payload id."""
        build_id = payload_id(version, parent.hash, attributes)
        if build_id in self._builds:
            return build_id
        build = PayloadBuild(build_id, parent, attributes)
        self._builds[build_id] = build
        while len(self._builds) > KEPT_BUILDS:
            self._builds.popitem(last=False)[1].resolved.set()
        trio.lowlevel.spawn_system_task(self._run, build, name=f"build 0x{build_id.hex()}")
        return build_id

    async def _run(self, build: PayloadBuild) -> None:
        """The first round, then refinement rounds until getPayload, eviction or the refine time."""
        try:
            await self._round(build)
        finally:
            build.finished.set()
        with trio.move_on_after(self.refine_seconds):
            while build.produced is not None:
                with trio.move_on_after(self.recommit_seconds):
                    await build.resolved.wait()
                if build.resolved.is_set():
                    return
                if self.eth.pool.changes != build.pool_changes:
                    await self._round(build)

    async def _round(self, build: PayloadBuild) -> None:
        try:
            async with self.context.lock:
                if build.resolved.is_set():
                    return
                produced = await self._build(build)
        except Exception as exc:  # a system task must not raise: the failure is the build's answer
            log.exception("payload build 0x%s failed", build.payload_id.hex())
            build.error = f"{type(exc).__name__}: {exc}"
            return
        build.rounds += 1
        kept = build.offer(produced)
        log.info(
            "built payload id=0x%s round=%d number=%d hash=0x%s txs=%d invalid=%d gas=%d value=%d%s",
            build.payload_id.hex(),
            build.rounds,
            produced.header.block_number,
            produced.hash.hex(),
            len(produced.included),
            len(produced.invalid),
            produced.header.gas_used,
            produced.block_value,
            "" if kept else " (not better: kept the previous)",
        )

    async def _build(self, build: PayloadBuild) -> ProducedBlock:
        blockchain = self.context.blockchain
        parent, attributes = build.parent, build.attributes
        pool = self.eth.pool
        on_pool_head = self.eth.synced_view().head.hash == parent.hash
        build.pool_changes = pool.changes
        next_block = view_at(blockchain, parent, attributes.timestamp)
        pending = _WithSidecarsOf(
            pool.pending(next_block.base_fee, next_block.blob_base_fee), next_block.fork in CELL_PROOF_FORKS
        )
        flat = parent.hash == blockchain.chain.pointer(FLAT_STATE_BLOCK)
        produced = await trio.to_thread.run_sync(
            partial(build_block, blockchain, parent, attributes, pending, parent_has_flat_state=flat)
        )
        if on_pool_head:  # refused on the pool's own head: no block will take them
            changes = pool.changes
            pool.remove(
                candidate.hash for candidate in produced.invalid if isinstance(candidate, PoolTransaction)
            )
            build.pool_changes += pool.changes - changes  # its own removals are no reason to build again
        return produced
