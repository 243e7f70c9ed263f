"""What the pipeline needs from a chain, and the values that pass between them.

The pipeline (warmer, merkleizer, executor, join, store) knows nothing of
forks, VMs or chain configuration: it drives any :class:`ChainCore`, the way
reth's engine tree is generic over the EVM and the state provider it is given.
``client.blockchain.Blockchain`` is the one implementation: it decodes and
checks a block (:meth:`ChainCore.prepare`), executes it on a parent state with
its fork's rules (:meth:`ChainCore.execute`) and stores it in one batch
(:meth:`ChainCore.commit_block`). Between those calls the pipeline runs its
tasks and its checks.

The types both sides use live here, below the chain: a decoded and checked
block (:class:`PreparedBlock`), what executing it produced
(:class:`BlockExecution`), and what importing it gave (:class:`ImportedBlock`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI

from bal import BlockAccessList, encode_bal
from bal.deltas import AccountDelta
from merkle import NodeCache
from storage import EncodedBlock, FlatChanges, StateWrites, Store

from .state_source import StateSource
from .timings import StageTimings


@dataclass(frozen=True)
class BlockOutline:
    """What a block's header and its stored parent say, read before the block is decoded and checked.

    Enough to start the BAL path's worker processes while the block is being
    prepared (the merkleizer needs the parent's state root, the later part the
    transaction count): their work overlaps the block's decoding instead of
    waiting for it. An outline is no verdict: :meth:`ChainCore.prepare` still
    runs every check, in its order.
    """

    parent_state_root: bytes
    parent_has_flat_state: bool
    transaction_count: int
    #: the header's commitment to the block's BAL (None before Amsterdam)
    block_access_list_hash: bytes | None


@dataclass(frozen=True)
class PreparedBlock:
    """A decoded block that passed every check that needs no execution."""

    block: BlockAPI
    parent: BlockHeaderAPI
    # The fork's VM class, chosen by the chain from the block's timestamp; the pipeline only passes it back.
    vm_class: type
    # The block's RLP split into what the store keeps (hash, number, header and body RLP).
    encoded: EncodedBlock
    # The parent is the block whose state the flat state holds: execution reads the flat
    # state, and storing the block moves the flat state to it.
    parent_has_flat_state: bool

    @property
    def transaction_count(self) -> int:
        return len(self.block.transactions)

    @property
    def outline(self) -> BlockOutline:
        """The block's outline, as :meth:`ChainCore.outline` reads it before decoding."""
        return BlockOutline(
            parent_state_root=self.parent.state_root,
            parent_has_flat_state=self.parent_has_flat_state,
            transaction_count=self.transaction_count,
            block_access_list_hash=getattr(self.block.header, "block_access_list_hash", None),
        )


@dataclass(frozen=True)
class BlockExecution:
    """What executing a block produced, for the post-execution checks and the merkleizer."""

    gas_used: int
    blob_gas_used: int | None
    bloom: int
    # Each receipt's ``encode()``: what the receipts root and the store need (``pipeline.receipts``).
    encoded_receipts: tuple[bytes, ...]
    # The fork's receipt decoder, for :attr:`receipts`.
    decode_receipt: Callable[[bytes], ReceiptAPI]
    requests_hash: bytes | None
    deltas: list[AccountDelta]
    # The block access list execution produced (EIP-7928), from Amsterdam on.
    block_access_list: BlockAccessList | None = None

    @property
    def block_access_list_rlp(self) -> bytes | None:
        """The executed BAL's RLP (``encode_bal`` encodes a BAL once and keeps it on the BAL)."""
        return None if self.block_access_list is None else encode_bal(self.block_access_list)

    @cached_property
    def receipts(self) -> tuple[ReceiptAPI, ...]:
        """The receipts as py-evm objects, decoded on first use: the import path needs only the encodings."""
        return tuple(map(self.decode_receipt, self.encoded_receipts))


@dataclass(frozen=True)
class ImportedBlock:
    block_hash: bytes
    number: int
    state_root: bytes
    gas_used: int
    tx_count: int
    timings: StageTimings


@dataclass
class NextBlock:
    """The block a replay imports right after this one: decoded while this one waits for its root.

    ``pipeline.import_block(next_block=...)`` fills ``decoded`` (or leaves it None) and the caller
    passes it as the next import's ``block``.
    """

    block_rlp: bytes
    decoded: BlockAPI | None = None


class LaterPart(Protocol):
    """A block's transactions from ``first`` (0-based) on, executing elsewhere (EIP-7928 parallel).

    The pipeline hands one to :meth:`ChainCore.execute`; the chain's fork code
    asks for its result once the earlier transactions are done.
    """

    @property
    def first(self) -> int: ...

    def steal(self) -> int | None:
        """Once the earlier transactions are done: the index from which the caller runs the rest
        itself (the part then ends before it), or None to leave the whole part where it runs."""
        ...

    def claimed_state(self, index: int) -> Sequence[AccountDelta]:
        """The state the block's BAL claims after blockAccessIndex ``index`` (deltas on the parent)."""
        ...

    def result(self) -> object:
        """Wait for the part and return what its worker sent back; raise if it failed."""
        ...


class ChainCore(Protocol):
    """The chain as the pipeline drives it: prepare, execute on a state source, commit.

    Every method raises :class:`~pipeline.verdicts.BlockRejected` for an
    invalid block; :meth:`prepare` raises
    :class:`~pipeline.verdicts.UnknownParent` when the parent is not stored.
    """

    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> object:
        """What a worker process needs, besides the store, to run this chain's blocks (picklable)."""
        ...

    def trie_nodes(self) -> NodeCache:
        """Decoded trie nodes the streaming merkleizer keeps from block to block (bounded in size)."""
        ...

    def outline(self, block_rlp: bytes) -> BlockOutline | None:
        """The block's outline, or None if its RLP or header does not read or its parent is not stored.

        Cheap (the header and the list of transactions, not the transactions),
        and never a verdict: :meth:`prepare` rejects what is wrong.
        """
        ...

    def decode_ahead(self, block_rlp: bytes) -> BlockAPI | None:
        """The block decoded before its parent is stored; None if it does not read.

        :meth:`prepare` takes the result as its ``block`` and checks it. A chain
        may run here the checks that need neither the parent nor the state (the
        body's roots) and let prepare skip those that passed for this very
        block; prepare still rejects the block for any that failed.
        """
        ...

    def prepare(
        self, block_rlp: bytes, bal: BlockAccessList | None, block: BlockAPI | None = None
    ) -> PreparedBlock:
        """Decode the block and run every check that needs no execution.

        ``block``: the block already decoded from ``block_rlp`` (the Engine API
        builds it from the payload); it is checked, not decoded again.
        """
        ...

    def execute(
        self,
        prepared: PreparedBlock,
        source: StateSource,
        *,
        with_deltas: bool,
        later: LaterPart | None = None,
        given: BlockAccessList | None = None,
    ) -> BlockExecution:
        """Run the block on its parent state, recording its BAL from Amsterdam on.

        ``with_deltas=False`` when a given BAL supplies the state changes;
        ``later``: the block's later transactions run elsewhere; ``given``: the
        BAL that came with the block, which the result's BAL is (the same
        object) when execution recorded exactly it.
        """
        ...

    def commit_block(
        self,
        prepared: PreparedBlock,
        writes: StateWrites,
        execution: BlockExecution,
        flat_changes: FlatChanges,
    ) -> None:
        """Store the block, its receipts, BAL, state and changes to the flat state in one batch."""
        ...
