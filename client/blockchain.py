"""The blockchain: genesis, the checks before a block runs, the one write after, the head.

A block's journey is ``pipeline/``'s (executor, warmer and merkleizer in one
nursery); the blockchain supplies both ends of it: :meth:`Blockchain.prepare`
(decode, header checks against the parent, body checks, a given BAL's hash and
structure) and :meth:`Blockchain.commit_block` (ONE atomic batch). A block that
fails anywhere raises :class:`BlockRejected` naming the rule, and nothing of it
is stored. :meth:`Blockchain.add_block` is the synchronous door for callers
outside an event loop (tests, the chain generator, the EF runner).

The flat state follows the *tip*: a block whose parent is the tip updates the
flat state in its batch and becomes the tip; a block on any other parent stores
its tries, code and records only, and executes against its parent's tries.
Importing never moves the head: fork choice does (``set_forkchoice``, which the
Engine API's forkchoiceUpdated calls), rewriting the canonical chain in one batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import rlp
import trio
from eth.abc import BlockAPI, BlockHeaderAPI
from eth.vm.chain_context import ChainContext
from eth_utils import ValidationError
from rlp.exceptions import DeserializationError, RLPException

from bal import (
    BalError,
    BlockAccessList,
    check_hash,
    validate_structure,
)
from merkle import ordered_trie_root
from storage import (
    FINALIZED,
    HEAD,
    SAFE,
    TIP,
    Chain,
    FlatState,
    StateWrites,
    Store,
    StoredBlock,
    WriteBatch,
)

from .block_rlp import MalformedBlock, split_block
from .chain_config import ChainConfig, UnsupportedChainConfig
from .chaindb import StoreChainDB, decode_header
from .forks import FORK_VMS, BlockExecution
from .genesis import genesis_state
from .state_source import StateSource

if TYPE_CHECKING:
    from pipeline.merkle_workers import Merkleizer
    from pipeline.part_workers import PartWorkerPool
    from pipeline.timings import StageTimings


class BlockRejected(Exception):
    """The block is invalid; ``rule`` says which check failed."""

    def __init__(self, rule: str, message: str) -> None:
        # A BAL error's text already starts with its rule: say it once.
        message = message.removeprefix(f"{rule}: ")
        super().__init__(f"{rule}: {message}")
        self.rule = rule


class UnknownParent(LookupError):
    """The block's parent is not stored (the Engine API answers SYNCING)."""


class UnknownBlock(LookupError):
    """Fork choice names a block that is not stored."""


@dataclass(frozen=True)
class ImportedBlock:
    block_hash: bytes
    number: int
    state_root: bytes
    gas_used: int
    tx_count: int
    timings: StageTimings


@dataclass(frozen=True)
class PreparedBlock:
    """A decoded block that passed every check that needs no execution."""

    block: BlockAPI
    parent: BlockHeaderAPI
    vm_class: type
    parts: Any
    # The parent is the tip the flat state holds: execution reads flat state, the block moves the tip.
    extends_tip: bool


def require(condition: bool, rule: str, message: str) -> None:
    """Raise BlockRejected(rule, message) unless ``condition`` holds."""
    if not condition:
        raise BlockRejected(rule, message)


class Blockchain:
    def __init__(self, store: Store, config: ChainConfig) -> None:
        self.store = store
        self.config = config
        self.chain = Chain(store)

    # -- genesis ------------------------------------------------------------

    def init_genesis(self, alloc: Mapping[str, Mapping[str, Any]], genesis_rlp: bytes) -> bytes:
        """Store the genesis block and its state; the genesis header must commit to ``alloc``."""
        return self.init_genesis_state(genesis_state(self.store, alloc), genesis_rlp)

    def init_genesis_state(self, writes: StateWrites, genesis_rlp: bytes) -> bytes:
        """Store the genesis block and its already computed state (``client.genesis.Genesis.state``)."""
        parts = split_block(genesis_rlp)
        header = decode_header(parts.header_rlp)
        if writes.state_root != header.state_root:
            raise ValueError(
                f"genesis allocation gives root 0x{writes.state_root.hex()}, "
                f"header says 0x{header.state_root.hex()}"
            )
        self._commit(writes, StoredBlock(parts.block_hash, 0, parts.header_rlp, parts.body_rlp), True)
        self.set_forkchoice(parts.block_hash, safe=parts.block_hash, finalized=parts.block_hash)
        return parts.block_hash

    # -- import ---------------------------------------------------------------

    def add_block(
        self,
        block_rlp: bytes,
        bal: BlockAccessList | None = None,
        merkleizer: Merkleizer | None = None,
        parts: PartWorkerPool | None = None,
    ) -> ImportedBlock:
        """Import one block through the pipeline (BAL path if ``bal`` is given, else streaming).

        For callers outside an event loop; inside one, ``await
        pipeline.import_block`` instead.
        """
        # pipeline/ builds on this module, so it is imported when first needed.
        from pipeline import import_block

        return trio.run(partial(import_block, self, block_rlp, bal, merkleizer=merkleizer, parts=parts))

    def block_vm(self, vm_class: type, header: BlockHeaderAPI, source: StateSource) -> Any:
        """The fork's VM for one block, reading the parent state through ``source``."""
        return vm_class(
            header=header,
            chaindb=StoreChainDB(self.chain, source),
            chain_context=ChainContext(self.config.chain_id),
            consensus_context=None,
        )

    def prepare(self, block_rlp: bytes, bal: BlockAccessList | None) -> PreparedBlock:
        """Decode the block and run every check that needs no execution; raise BlockRejected if one fails."""
        prepared = self.decode(block_rlp)
        self._check_header(prepared)
        self._check_body(prepared.block)
        if bal is not None:
            self._check_given_bal(prepared.block, bal)
        return prepared

    def commit_block(self, prepared: PreparedBlock, writes: StateWrites, execution: BlockExecution) -> None:
        """Store the block, its receipts, its BAL and its state in ONE atomic batch."""
        parts = prepared.parts
        stored = StoredBlock(
            parts.block_hash,
            parts.number,
            parts.header_rlp,
            parts.body_rlp,
            rlp.encode([receipt.encode() for receipt in execution.receipts]),
            bal_rlp=execution.block_access_list_rlp,
        )
        self._commit(writes, stored, prepared.extends_tip)

    def decode(self, block_rlp: bytes, *, body: bool = True) -> PreparedBlock:
        """The block decoded with its fork's classes, and its stored parent (no checks yet).

        ``body=False`` leaves the body out (the block holds only its header): for
        a worker that decodes just the transactions it runs, of a block the
        node's process has decoded and checked.
        """
        try:
            parts = split_block(block_rlp)
            header = decode_header(parts.header_rlp)
        except (MalformedBlock, RLPException) as exc:
            raise BlockRejected("malformed-block", str(exc)) from None
        parent_rlp = self.chain.header_rlp(header.parent_hash)
        if parent_rlp is None:
            raise UnknownParent(f"parent 0x{header.parent_hash.hex()} is not stored")
        try:
            fork = self.config.fork_at(header.timestamp)
            vm_class = FORK_VMS[fork].for_chain(self.config, fork)
        except (UnsupportedChainConfig, KeyError) as exc:
            raise BlockRejected(
                "unsupported-fork", f"no VM for timestamp {header.timestamp}: {exc}"
            ) from None
        try:
            vm_class.validate_block_rlp_size(len(block_rlp))
        except ValidationError as exc:
            raise BlockRejected("block-too-large", str(exc)) from None
        try:
            block_class = vm_class.get_block_class()
            block = rlp.decode(block_rlp, sedes=block_class) if body else block_class(header)
        except (DeserializationError, RLPException, ValidationError) as exc:
            raise BlockRejected("malformed-block", str(exc)) from None
        extends_tip = header.parent_hash == self.chain.pointer(TIP)
        return PreparedBlock(block, decode_header(parent_rlp), vm_class, parts, extends_tip)

    def _check_header(self, decoded: PreparedBlock) -> None:
        header = decoded.block.header
        try:
            decoded.vm_class.validate_header(header, decoded.parent)
        except ValidationError as exc:
            raise BlockRejected("invalid-header", str(exc)) from None
        require(header.gas_used <= header.gas_limit, "gas-used-above-limit", f"{header.gas_used}")

    @staticmethod
    def _check_body(block: BlockAPI) -> None:
        tx_root = ordered_trie_root(tx.encode() for tx in block.transactions)
        require(tx_root == block.header.transaction_root, "transactions-root-mismatch", "")
        require(not block.uncles, "uncles-present", f"{len(block.uncles)} uncles")
        withdrawals = getattr(block, "withdrawals", None)
        if withdrawals is not None:
            root = ordered_trie_root(w.encode() for w in withdrawals)
            require(root == block.header.withdrawals_root, "withdrawals-root-mismatch", "")

    @staticmethod
    def _check_given_bal(block: BlockAPI, bal: BlockAccessList) -> None:
        """A given BAL must hash to the header's commitment and be well formed (EIP-7928).

        The item limit is left for after execution: a block whose transactions
        are invalid must be rejected for that, not for its BAL's size.
        """
        expected = getattr(block.header, "block_access_list_hash", None)
        if expected is None:
            raise BlockRejected("unexpected-block-access-list", "a block before Amsterdam has no BAL")
        try:
            check_hash(bal, expected)
            validate_structure(bal, tx_count=len(block.transactions))
        except BalError as exc:
            raise BlockRejected(exc.rule, str(exc)) from None

    def _commit(self, writes: StateWrites, block: StoredBlock, extends_tip: bool) -> None:
        batch = WriteBatch()
        writes.stage_trie(batch)
        Chain.stage_block(batch, block)
        if extends_tip:
            writes.stage_flat(batch, FlatState(self.store))
            Chain.stage_pointer(batch, TIP, block.block_hash)
        self.store.commit(batch)

    # -- fork choice ----------------------------------------------------------

    def header(self, block_hash: bytes) -> BlockHeaderAPI | None:
        header_rlp = self.chain.header_rlp(block_hash)
        return None if header_rlp is None else decode_header(header_rlp)

    def set_forkchoice(
        self, head: bytes, safe: bytes | None = None, finalized: bytes | None = None
    ) -> None:
        """Make ``head`` the head and the canonical chain end there; set safe/finalized if given.

        Every named block must be stored (else :class:`UnknownBlock`, and
        nothing changes). The canonical entries of the old branch above the
        fork point are replaced by the new branch's, in one batch.
        """
        for name, block_hash in (("head", head), ("safe", safe), ("finalized", finalized)):
            if block_hash is not None and self.chain.header_rlp(block_hash) is None:
                raise UnknownBlock(f"{name} block 0x{block_hash.hex()} is not stored")
        batch = WriteBatch()
        new_head = self.header(head)
        assert new_head is not None
        old_head_hash = self.chain.head_hash()
        old_head = self.header(old_head_hash) if old_head_hash else None
        if old_head is not None:
            for number in range(new_head.block_number + 1, old_head.block_number + 1):
                Chain.stage_canonical(batch, number, None)
        number, block_hash = new_head.block_number, head
        while number >= 0 and self.chain.canonical_hash(number) != block_hash:
            Chain.stage_canonical(batch, number, block_hash)
            block_hash = self.header(block_hash).parent_hash  # type: ignore[union-attr]
            number -= 1
        Chain.stage_pointer(batch, HEAD, head)
        if safe is not None:
            Chain.stage_pointer(batch, SAFE, safe)
        if finalized is not None:
            Chain.stage_pointer(batch, FINALIZED, finalized)
        self.store.commit(batch)
