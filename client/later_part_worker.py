"""What a later-part worker process does: run a block's later transactions from the BAL's claimed state.

EIP-7928 lets a block's transactions run in parallel: the BAL says what the
state is after every ``blockAccessIndex``. While the node's process executes
the block's first transactions, a worker process started once and kept alive
(by ``pipeline.later_part.LaterPartPool``, through the loop in ``pipeline.processes``)
executes the rest, from the state the BAL claims right after the first part,
and sends back each transaction's outcome, the BAL units it recorded and the
state it ended in (``client.forks.amsterdam.later_part`` says why that is
safe). It claims each transaction before running it
(``pipeline.later_part.TransactionClaims``): the node's process may have taken
the end of the part for itself, and then the part stops there.

The worker reads the parent state through its own secondary RocksDB handle
(``storage.rocks.Follower``), which the node's hints keep caught up while the
worker is idle; a request whose store has moved past it (the request's
``sequence``) catches it up first. It decodes the block
itself from its RLP (so only bytes and the claimed deltas cross the pipe),
and decodes only its own transactions.

Request: a :class:`~pipeline.later_part.LaterPartRequest`; replies with a
:class:`~client.forks.amsterdam.later_part.PartResult`.
"""

from __future__ import annotations

from pipeline.cores import Cores
from pipeline.later_part import MIN_TRANSACTIONS, LaterPartPool, LaterPartRequest, TransactionClaims
from pipeline.state_source import StateSource
from storage import Store
from storage.rocks import Follower

from .block_decoding import decode_transaction
from .blockchain import Blockchain
from .chain_config import ChainConfig
from .forks.amsterdam.later_part import PartResult


class LaterPartWorker:
    """The later-part worker's handler (``pipeline.processes.Handler``)."""

    def __init__(self, claims: TransactionClaims) -> None:
        """``claims``: the board shared with the node's process (its pool's), on which each
        transaction is claimed before it runs."""
        # It executes only, on parents with flat state (``LaterPartPool.split_point``).
        self.follower = Follower("balrex-later-part-", execution_only=True)
        self.claims = claims

    def handle(self, request: object) -> PartResult:
        if not isinstance(request, LaterPartRequest):
            raise TypeError(f"unknown request {type(request).__name__}")
        if not isinstance(request.config, ChainConfig):
            raise TypeError(f"a later part needs a ChainConfig, got {type(request.config).__name__}")
        store = self.follower.store_for(request.db_path, request.sequence)
        blockchain = self.chain_for(store, request.config)
        decoded = blockchain.decode(request.block_rlp, body=False)
        builder = decoded.vm_class.get_transaction_builder()
        # Only this part's transactions, from the encodings ``decode`` has already sliced out of the block.
        encodings = decoded.encoded.transaction_encodings[request.first :]
        transactions = [decode_transaction(builder, encoding) for encoding in encodings]
        source = StateSource(
            store, decoded.parent.state_root, parent_has_flat_state=request.parent_has_flat_state
        )
        vm = blockchain.block_vm(decoded.vm_class, decoded.block.header, source)
        result: PartResult = vm.execute_later_part(
            decoded.block, request.first, transactions, request.start, self.claims.take
        )
        return result

    def chain_for(self, store: Store, config: ChainConfig) -> Blockchain:
        """The chain that runs a part; a subclass may give one that also watches the execution."""
        return Blockchain(store, config)

    def open(self, db_path: str) -> None:
        self.follower.store_for(db_path)

    def catch_up(self, db_path: str) -> None:
        """Replay what the node wrote to ``db_path`` since the last time, if the handle is on it."""
        if self.follower.follows(db_path):
            self.follower.catch_up()

    def close(self) -> None:
        self.follower.close()


def later_part_pool(
    *, min_transactions: int = MIN_TRANSACTIONS, first_share: float = 0.5, cores: Cores | None = None
) -> LaterPartPool:
    """A pool whose worker runs this chain's later parts (see :class:`~pipeline.later_part.LaterPartPool`)."""
    return LaterPartPool(
        LaterPartWorker, min_transactions=min_transactions, first_share=first_share, cores=cores
    )
