"""The blockchain: genesis, block import, the head.

``add_block`` is the streaming path of pipeline.md §2: header checks against
the parent, body checks, execution on the parent state (flat state, no trie
work), post-execution checks, the state root from ``merkle/`` over the
execution's deltas, and then ONE atomic batch. A block that fails anywhere
raises :class:`BlockRejected` naming the rule, and nothing of it is stored.

The flat state follows the *tip*: a block whose parent is the tip updates the
flat state in its batch and becomes the tip; a block on any other parent stores
its tries, code and records only, and executes against its parent's tries.
Importing never moves the head: fork choice does (``set_forkchoice``, which the
Engine API's forkchoiceUpdated calls), rewriting the canonical chain in one batch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI
from eth.db.trie import make_trie_root_and_nodes
from eth.exceptions import VMError
from eth.vm.chain_context import ChainContext
from eth_utils import ValidationError
from rlp.exceptions import DeserializationError, RLPException

from bal import (
    BalError,
    BlockAccessList,
    bal_hash,
    check_hash,
    encode_bal,
    synthesize_deltas,
    validate_structure,
)
from bal.recorder import first_difference
from bal.validation import BAL_ITEM_GAS
from merkle import merkleize
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
from .requests import InvalidRequests
from .state_source import StateSource


class BlockRejected(Exception):
    """The block is invalid; ``rule`` says which check failed."""

    def __init__(self, rule: str, message: str) -> None:
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
    exec_s: float
    merkle_s: float
    store_s: float


@dataclass(frozen=True)
class _Decoded:
    block: BlockAPI
    parent: BlockHeaderAPI
    vm_class: type
    parts: Any


def _check(condition: bool, rule: str, message: str) -> None:
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
        parts = split_block(genesis_rlp)
        header = decode_header(parts.header_rlp)
        writes = genesis_state(self.store, alloc)
        if writes.state_root != header.state_root:
            raise ValueError(
                f"genesis allocation gives root 0x{writes.state_root.hex()}, "
                f"header says 0x{header.state_root.hex()}"
            )
        self._commit(writes, StoredBlock(parts.block_hash, 0, parts.header_rlp, parts.body_rlp), True)
        self.set_forkchoice(parts.block_hash, safe=parts.block_hash, finalized=parts.block_hash)
        return parts.block_hash

    # -- import ---------------------------------------------------------------

    def add_block(self, block_rlp: bytes, bal: BlockAccessList | None = None) -> ImportedBlock:
        """Import one block; with ``bal`` (the BAL path) the given BAL drives the merkleizer.

        Without ``bal`` the state root comes from the deltas execution
        produced (the streaming path). With it, the BAL is checked against the
        header before anything runs, its deltas are merkleized, and execution
        must then produce exactly that BAL, or the block is rejected.
        """
        decoded = self._decode(block_rlp)
        block, parent = decoded.block, decoded.parent
        self._check_header(decoded)
        self._check_body(block)
        if bal is not None:
            self._check_given_bal(block, bal)
        extends_tip = block.header.parent_hash == self.chain.pointer(TIP)
        source = StateSource(self.store, parent.state_root, parent_is_head=extends_tip)
        vm = decoded.vm_class(
            header=block.header,
            chaindb=StoreChainDB(self.chain, source),
            chain_context=ChainContext(self.config.chain_id),
            consensus_context=None,
        )
        started = time.perf_counter()
        try:
            vm.validate_block_blobs(block)
            execution = vm.execute_block(block)
        except ValidationError as exc:
            raise BlockRejected("invalid-transaction-or-block", str(exc)) from None
        except VMError as exc:
            # Raised out of a transaction's top-level message (py-evm's balance check
            # for value transfers): the transaction, so the block, is invalid.
            raise BlockRejected("invalid-transaction", f"{type(exc).__name__}: {exc}") from None
        except InvalidRequests as exc:
            raise BlockRejected(exc.rule, str(exc)) from None
        executed = time.perf_counter()
        self._check_bal_size(block.header, execution)
        self._check_execution(block.header, execution)
        deltas = synthesize_deltas(bal) if bal is not None else execution.deltas
        writes = merkleize(self.store, parent.state_root, deltas)
        _check(
            writes.state_root == block.header.state_root,
            "state-root-mismatch",
            f"execution gives 0x{writes.state_root.hex()}, header says 0x{block.header.state_root.hex()}",
        )
        self._check_executed_bal(block.header, execution, bal)
        merkleized = time.perf_counter()
        receipts_rlp = rlp.encode([receipt.encode() for receipt in execution.receipts])
        parts = decoded.parts
        recorded = execution.block_access_list
        stored = StoredBlock(
            parts.block_hash,
            parts.number,
            parts.header_rlp,
            parts.body_rlp,
            receipts_rlp,
            bal_rlp=None if recorded is None else encode_bal(recorded),
        )
        self._commit(writes, stored, extends_tip)
        done = time.perf_counter()
        return ImportedBlock(
            block_hash=parts.block_hash,
            number=parts.number,
            state_root=writes.state_root,
            gas_used=execution.gas_used,
            tx_count=len(block.transactions),
            exec_s=executed - started,
            merkle_s=merkleized - executed,
            store_s=done - merkleized,
        )

    def _decode(self, block_rlp: bytes) -> _Decoded:
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
            block = rlp.decode(block_rlp, sedes=vm_class.get_block_class())
        except (DeserializationError, RLPException, ValidationError) as exc:
            raise BlockRejected("malformed-block", str(exc)) from None
        return _Decoded(block, decode_header(parent_rlp), vm_class, parts)

    def _check_header(self, decoded: _Decoded) -> None:
        header = decoded.block.header
        try:
            decoded.vm_class.validate_header(header, decoded.parent)
        except ValidationError as exc:
            raise BlockRejected("invalid-header", str(exc)) from None
        _check(header.gas_used <= header.gas_limit, "gas-used-above-limit", f"{header.gas_used}")

    @staticmethod
    def _check_body(block: BlockAPI) -> None:
        tx_root, _ = make_trie_root_and_nodes(block.transactions)
        _check(tx_root == block.header.transaction_root, "transactions-root-mismatch", "")
        _check(not block.uncles, "uncles-present", f"{len(block.uncles)} uncles")
        withdrawals = getattr(block, "withdrawals", None)
        if withdrawals is not None:
            root, _ = make_trie_root_and_nodes(withdrawals)
            _check(root == block.header.withdrawals_root, "withdrawals-root-mismatch", "")

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

    @staticmethod
    def _check_bal_size(header: BlockHeaderAPI, execution: BlockExecution) -> None:
        recorded = execution.block_access_list
        if recorded is not None:
            items, allowed = recorded.item_count(), header.gas_limit // BAL_ITEM_GAS
            _check(items <= allowed, "bal-gas-limit-exceeded", f"{items} items > {allowed}")

    @staticmethod
    def _check_executed_bal(
        header: BlockHeaderAPI, execution: BlockExecution, given: BlockAccessList | None
    ) -> None:
        """The BAL execution produced must be the given one, and the one the header commits to."""
        recorded = execution.block_access_list
        if recorded is None:
            return
        if given is not None:
            difference = first_difference(recorded, given)
            if difference is not None:
                raise BlockRejected(difference.rule, str(difference))
        actual = bal_hash(recorded)
        _check(
            actual == header.block_access_list_hash,
            "block-access-list-mismatch",
            f"executed BAL hashes to 0x{actual.hex()}; header: 0x{header.block_access_list_hash.hex()}",
        )

    @staticmethod
    def _check_execution(header: BlockHeaderAPI, execution: BlockExecution) -> None:
        _check(
            execution.gas_used == header.gas_used,
            "gas-used-mismatch",
            f"execution used {execution.gas_used}, header says {header.gas_used}",
        )
        receipts_root, _ = make_trie_root_and_nodes(execution.receipts)
        _check(receipts_root == header.receipt_root, "receipts-root-mismatch", "")
        _check(execution.bloom == header.bloom, "logs-bloom-mismatch", "")
        if execution.blob_gas_used is not None:
            _check(
                execution.blob_gas_used == header.blob_gas_used,
                "blob-gas-used-mismatch",
                f"execution used {execution.blob_gas_used}, header says {header.blob_gas_used}",
            )
        if execution.requests_hash is not None:
            _check(execution.requests_hash == header.requests_hash, "requests-hash-mismatch", "")

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
