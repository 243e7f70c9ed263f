"""What every family of Engine API methods shares.

The chain, the worker pools, the import lock and the memory of invalid payloads.

Also the fork rules of the API itself: which ``newPayload``, ``getPayload`` and
``forkchoiceUpdated`` version serves which fork (the tables live in
:mod:`client.engine_versions`), answered ``-38005 Unsupported fork`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from client.blockchain import Blockchain
from client.chain_config import Fork, UnsupportedChainConfig
from client.forks import FORK_VMS
from pipeline import LaterPartPool, Merkleizer, catch_up_workers
from storage import Chain

from .errors import UNSUPPORTED_FORK, RpcError
from .invalid_payloads import InvalidPayloads
from .models import PayloadStatusV1

ZERO_HASH = b"\x00" * 32


@dataclass
class EngineContext:
    blockchain: Blockchain
    # Where the BAL path's merkleizer and later parts run (the node passes its worker pools).
    merkleizer: Merkleizer | None = None
    later_parts: LaterPartPool | None = None
    # Imports, and forkchoice updates that move the head (so the flat state), one at a time.
    lock: trio.Lock = field(default_factory=trio.Lock)
    # Every forkchoice update, one at a time (one that keeps the head need not wait for imports).
    forkchoice_lock: trio.Lock = field(default_factory=trio.Lock)
    invalid: InvalidPayloads = field(default_factory=InvalidPayloads)

    @property
    def chain(self) -> Chain:
        return self.blockchain.chain

    def catch_up_workers(self) -> None:
        """Tell the idle worker processes that the store changed (call with :attr:`lock` held)."""
        catch_up_workers(self.blockchain.store, self.merkleizer, self.later_parts)

    def fork_of(self, timestamp: int) -> Fork:
        """The fork of ``timestamp`` (-38005 if the chain has none then)."""
        try:
            return self.blockchain.config.fork_at(timestamp)
        except UnsupportedChainConfig as exc:
            raise RpcError(UNSUPPORTED_FORK, f"unsupported fork: {exc}") from None

    def fork_for(self, timestamp: int, served: tuple[Fork, ...], method: str) -> Fork:
        """The fork of ``timestamp``, which ``method`` must serve (else -38005)."""
        fork = self.fork_of(timestamp)
        if fork not in served:
            raise RpcError(
                UNSUPPORTED_FORK, f"unsupported fork: timestamp {timestamp} is {fork}, not {method}'s"
            )
        if fork not in FORK_VMS:
            raise RpcError(UNSUPPORTED_FORK, f"unsupported fork: {fork} does not execute in this node yet")
        return fork

    def head_number(self) -> int:
        head = self.chain.head_hash()
        header = self.blockchain.header(head) if head else None
        return 0 if header is None else header.block_number


def invalid_status(latest_valid: bytes | None, error: str) -> PayloadStatusV1:
    return PayloadStatusV1(status="INVALID", latest_valid_hash=latest_valid, validation_error=error)
