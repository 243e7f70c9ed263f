"""What a later-part worker process does: run a block's later transactions from the BAL's claimed state.

EIP-7928 lets a block's transactions run in parallel: the BAL says what the
state is after every ``blockAccessIndex``. While the node's process executes
the block's first transactions, a worker process started once and kept alive
(by ``pipeline.part_workers``, through the loop in ``pipeline.processes``)
executes the rest, from the state the BAL claims right after the first part,
and sends back each transaction's outcome, the BAL units it recorded and the
state it ended in (``client.forks.amsterdam.parts`` says why that is safe).

The worker reads the parent state through its own secondary RocksDB handle
(``storage.rocks.Follower``, caught up before each block), decodes the block
itself from its RLP (so only bytes and the claimed deltas cross the pipe),
and decodes only its own transactions.

Request: ``("later-part", db_path, config, block_rlp, parent_is_head, first,
start)``; replies with a :class:`~client.forks.amsterdam.parts.PartResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp

from bal.deltas import AccountDelta
from storage.rocks import Follower

from .blockchain import Blockchain
from .chain_config import ChainConfig
from .forks.amsterdam.parts import PartResult
from .state_source import StateSource


class PartWorker:
    def __init__(self) -> None:
        self.follower = Follower("balrex-part-")

    def handle(self, request: tuple[Any, ...]) -> PartResult:
        kind, *args = request
        if kind != "later-part":
            raise ValueError(f"unknown request {kind!r}")
        return self.later_part(*args)

    def later_part(
        self,
        db_path: str,
        config: ChainConfig,
        block_rlp: bytes,
        parent_is_head: bool,
        first: int,
        start: Sequence[AccountDelta],
    ) -> PartResult:
        store, _ = self.follower.store_for(db_path)
        blockchain = Blockchain(store, config)
        decoded = blockchain.decode(block_rlp, body=False)
        builder = decoded.vm_class.get_transaction_builder()
        # Only this part's transactions: the block's other half never runs here.
        transactions = [builder.deserialize(item) for item in rlp.decode(block_rlp)[1][first:]]
        source = StateSource(store, decoded.parent.state_root, parent_is_head=parent_is_head)
        vm = blockchain.block_vm(decoded.vm_class, decoded.block.header, source)
        result: PartResult = vm.execute_later_part(decoded.block, first, transactions, start)
        return result

    def close(self) -> None:
        self.follower.close()
