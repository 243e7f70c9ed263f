"""The blockchain: genesis, the checks before a block runs, its execution, the one write after, the head.

A block's journey is ``pipeline/``'s (executor, warmer and merkleizer in one
nursery); the blockchain is the :class:`pipeline.chain.ChainCore` it drives:
:meth:`Blockchain.prepare` (decode, header checks against the parent, body
checks, a given BAL's hash and structure), :meth:`Blockchain.execute` (the
block's fork rules on a parent state) and :meth:`Blockchain.commit_block` (ONE
atomic batch). A block that fails anywhere raises
:class:`~pipeline.verdicts.BlockRejected` naming the rule, and nothing of it
is stored. To import a block call ``pipeline.import_block`` (async) or
``pipeline.import_block_sync``.

The flat state (what execution reads for a child of its block) holds the
post-state of the head fork choice chose. Importing a block never moves it, nor
the head: the block's batch stores its changes to the flat state, and fork
choice (``set_forkchoice``, which the Engine API's forkchoiceUpdated calls)
rewrites the canonical chain and moves the flat state to the new head, undoing
and applying blocks' changes, in one batch. A block whose parent holds the flat
state executes against it; any other block against its parent's tries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI
from eth.exceptions import UnrecognizedTransactionType, VMError
from eth.vm.chain_context import ChainContext
from eth_utils import ValidationError
from rlp.exceptions import DeserializationError, RLPException

from bal import (
    BalError,
    BlockAccessList,
    check_hash,
    validate_structure,
)
from bal.rlp_items import rlp_list, rlp_string
from merkle import NODE_CACHE_LIMIT, NodeCache, ordered_trie_root
from pipeline.chain import BlockExecution, BlockOutline, LaterPart, PreparedBlock
from pipeline.state_source import StateSource
from pipeline.verdicts import BlockRejected, Rule, UnknownParent, require
from storage import (
    FINALIZED,
    FLAT_STATE_BLOCK,
    HEAD,
    SAFE,
    Chain,
    EncodedBlock,
    FlatChanges,
    MalformedBlock,
    NoState,
    Space,
    StateWrites,
    Store,
    StoredBlock,
    WriteBatch,
    split_block,
)

from .block_decoding import decode_block
from .chain_config import ChainConfig, Fork, UnsupportedChainConfig
from .chaindb import StoreChainDB, decode_header
from .flat_state_moves import stage_flat_state_move
from .forks import FORK_VMS
from .genesis import genesis_state
from .transaction_rules import _rule_for_validation_error

# How many decoded headers :meth:`Blockchain.header` keeps: far more than fork choice and
# import read again, few enough to hold no memory worth counting (a header is about 1 KB).
HEADER_CACHE_SIZE = 256


class UnknownBlock(LookupError):
    """Fork choice names a block that is not stored."""


class Blockchain:
    def __init__(self, store: Store, config: ChainConfig) -> None:
        self.store = store
        self.config = config
        self.chain = Chain(store)
        # The last block read by _header_and_parent, and what it gave (see there).
        self._last_read: tuple[bytes, tuple[EncodedBlock, BlockHeaderAPI, BlockHeaderAPI]] | None = None
        # The flat-state changes of the block stored last: fork choice applies them next, most often.
        self._last_committed: dict[bytes, FlatChanges] = {}
        # Decoded headers of stored blocks, by hash (see :meth:`header`).
        self._headers: dict[bytes, BlockHeaderAPI] = {}
        # Decoded trie nodes, by hash, kept across blocks (see :meth:`trie_nodes`).
        self._trie_nodes: NodeCache = {}
        # The block decode_ahead last decoded and found its body right, with its RLP (see there).
        self._body_checked_ahead: tuple[bytes, BlockAPI] | None = None

    # -- genesis ------------------------------------------------------------

    def init_genesis(self, alloc: Mapping[str, Mapping[str, Any]], genesis_rlp: bytes) -> bytes:
        """Store the genesis block and its state; the genesis header must commit to ``alloc``."""
        return self.init_genesis_state(genesis_state(self.store, alloc), genesis_rlp)

    def init_genesis_state(self, writes: StateWrites, genesis_rlp: bytes) -> bytes:
        """Store the genesis block and its already computed state (``client.genesis.Genesis.state``)."""
        encoded = split_block(genesis_rlp)
        header = decode_header(encoded.header_rlp)
        if writes.state_root != header.state_root:
            raise ValueError(
                f"genesis allocation gives root 0x{writes.state_root.hex()}, "
                f"header says 0x{header.state_root.hex()}"
            )
        genesis = StoredBlock(encoded.block_hash, 0, encoded.header_rlp, encoded.body_rlp)
        self._commit(writes, genesis, FlatChanges.of(writes, NoState()))
        self.set_forkchoice(encoded.block_hash, safe=encoded.block_hash, finalized=encoded.block_hash)
        return encoded.block_hash

    # -- import ---------------------------------------------------------------

    def trie_nodes(self) -> NodeCache:
        """Decoded trie nodes for the streaming merkleizer, kept from block to block.

        Each block reads the upper levels of the state trie and of the hot
        contracts' storage tries again, and its parent's state is mostly the
        nodes the block before created: kept decoded, they are neither read
        from the store nor decoded again (on the bench chains a block's
        merkleization took about a third less). Nodes are content-addressed, so
        a kept node is never stale, whichever branch made it. Past
        :data:`~merkle.NODE_CACHE_LIMIT` nodes they are all dropped.
        """
        if len(self._trie_nodes) > NODE_CACHE_LIMIT:
            self._trie_nodes.clear()
        return self._trie_nodes

    def block_vm(self, vm_class: type, header: BlockHeaderAPI, source: StateSource) -> Any:
        """The fork's VM for one block, reading the parent state through ``source``."""
        return vm_class(
            header=header,
            chaindb=StoreChainDB(self.chain, source),
            chain_context=ChainContext(self.config.chain_id),
            consensus_context=None,
        )

    def outline(self, block_rlp: bytes) -> BlockOutline | None:
        """The block's parent state and transaction count, from its header and stored parent only."""
        try:
            encoded, header, parent = self._header_and_parent(block_rlp)
        except (BlockRejected, UnknownParent):
            return None
        return BlockOutline(
            parent_state_root=parent.state_root,
            parent_has_flat_state=header.parent_hash == self.chain.pointer(FLAT_STATE_BLOCK),
            transaction_count=encoded.transaction_count,
            block_access_list_hash=getattr(header, "block_access_list_hash", None),
        )

    def _header_and_parent(self, block_rlp: bytes) -> tuple[EncodedBlock, BlockHeaderAPI, BlockHeaderAPI]:
        """The block's RLP split, its header decoded, and its stored parent's header decoded.

        The BAL path asks twice for the same block, its outline first and then
        :meth:`prepare` (a few ms of splitting and decoding each time): the answer
        for the last block object read is kept. A block and its stored parent never
        change, and holding the block's bytes keeps their identity from being reused.
        """
        last = self._last_read
        if last is not None and last[0] is block_rlp:
            return last[1]
        try:
            encoded = split_block(block_rlp)
            header = decode_header(encoded.header_rlp)
        except (MalformedBlock, RLPException) as exc:
            raise BlockRejected(Rule.MALFORMED_BLOCK, str(exc)) from None
        parent = self.header(header.parent_hash)
        if parent is None:
            raise UnknownParent(f"parent 0x{header.parent_hash.hex()} is not stored")
        read = (encoded, header, parent)
        self._last_read = (block_rlp, read)
        return read

    def decode_ahead(self, block_rlp: bytes) -> BlockAPI | None:
        """The block decoded with its fork's classes, before its parent is stored; its body checked.

        ``ChainCore.decode_ahead``: for the block imported right after the one
        being imported, decoded while that one waits for its state root, and
        handed to :meth:`prepare`. None if anything in it does not read:
        prepare then decodes it again and names the fault. The body's checks
        (transactions and withdrawals roots, no uncles) need neither the parent
        nor the state, so they run here too, in the same wait; prepare skips
        them for this very block if they passed, and runs them (and rejects the
        block for what failed) if they did not.
        """
        try:
            encoded = split_block(block_rlp)
            header = decode_header(encoded.header_rlp)
            _, vm_class = self._fork_and_vm(header)
            block = decode_block(vm_class.get_block_class(), block_rlp)
        except (BlockRejected, MalformedBlock, RLPException, UnrecognizedTransactionType, ValidationError):
            return None
        try:
            self._check_body(block, encoded)
        except BlockRejected:
            return block  # prepare checks it again and rejects it
        self._body_checked_ahead = (block_rlp, block)
        return block

    def prepare(
        self, block_rlp: bytes, bal: BlockAccessList | None, block: BlockAPI | None = None
    ) -> PreparedBlock:
        """Decode the block and run every check that needs no execution; raise BlockRejected if one fails.

        ``block``: the block already decoded from ``block_rlp`` (``ChainCore.prepare``).
        """
        prepared = self.decode(block_rlp, block=block)
        self._check_header(prepared)
        ahead = self._body_checked_ahead
        if ahead is None or ahead[0] is not block_rlp or ahead[1] is not prepared.block:
            self._check_body(prepared.block, prepared.encoded)
        if bal is not None:
            self._check_given_bal(prepared.block, bal)
        return prepared

    def execute(
        self,
        prepared: PreparedBlock,
        source: StateSource,
        *,
        with_deltas: bool,
        later: LaterPart | None = None,
        given: BlockAccessList | None = None,
    ) -> BlockExecution:
        """Run the block with its fork's rules on the parent state ``source`` reads.

        py-evm's refusals become rejections: a ``ValidationError`` (a
        transaction or the block breaks a rule), or a ``VMError`` raised out of
        a transaction's top-level message (py-evm's balance check for value
        transfers, the initcode limit); ``client.transaction_rules`` reads
        which rule from the text. Rules the fork code checks itself raise
        BlockRejected.
        """
        block = prepared.block
        vm = self.block_vm(prepared.vm_class, block.header, source)
        try:
            vm.validate_block_blobs(block)
            execution: BlockExecution = vm.execute_block(
                block, with_deltas=with_deltas, later=later, given=given
            )
        except ValidationError as exc:
            raise BlockRejected(_rule_for_validation_error(exc), str(exc)) from None
        except VMError as exc:
            raise BlockRejected(_rule_for_validation_error(exc), f"{type(exc).__name__}: {exc}") from None
        return execution

    def commit_block(
        self,
        prepared: PreparedBlock,
        writes: StateWrites,
        execution: BlockExecution,
        flat_changes: FlatChanges,
    ) -> None:
        """Store the block, its receipts, its BAL and its state in ONE atomic batch."""
        encoded = prepared.encoded
        stored = StoredBlock(
            encoded.block_hash,
            encoded.number,
            encoded.header_rlp,
            encoded.body_rlp,
            # The list of the receipts' encodings, each an RLP string (pyrlp's encode took 1 ms).
            rlp_list(rlp_string(receipt) for receipt in execution.encoded_receipts),
            bal_rlp=execution.block_access_list_rlp,
            transaction_hashes=encoded.transaction_hashes,
        )
        self._commit(writes, stored, flat_changes)

    def decode(self, block_rlp: bytes, *, body: bool = True, block: BlockAPI | None = None) -> PreparedBlock:
        """The block decoded with its fork's classes, and its stored parent (no checks yet).

        ``body=False`` leaves the body out (the block holds only its header): for
        a worker that decodes just the transactions it runs, of a block the
        node's process has decoded and checked. ``block``: the block already
        decoded from ``block_rlp`` by the caller, taken as it is if it is of
        the fork's block class.
        """
        encoded, header, parent = self._header_and_parent(block_rlp)
        fork, vm_class = self._fork_and_vm(header)
        try:
            vm_class.validate_block_rlp_size(len(block_rlp))
        except ValidationError as exc:
            raise BlockRejected(Rule.BLOCK_TOO_LARGE, str(exc)) from None
        try:
            block_class = vm_class.get_block_class()
            if block is None or type(block) is not block_class:
                block = decode_block(block_class, block_rlp) if body else block_class(header)
        except UnrecognizedTransactionType as exc:
            raise BlockRejected(
                Rule.UNSUPPORTED_TRANSACTION_TYPE, f"type {exc.args[0]} is not a transaction type of {fork}"
            ) from None
        except (DeserializationError, RLPException, ValidationError) as exc:
            raise BlockRejected(Rule.MALFORMED_BLOCK, str(exc)) from None
        parent_has_flat_state = header.parent_hash == self.chain.pointer(FLAT_STATE_BLOCK)
        return PreparedBlock(block, parent, vm_class, encoded, parent_has_flat_state)

    def _fork_and_vm(self, header: BlockHeaderAPI) -> tuple[Fork, Any]:
        """The fork active at the header's timestamp and its VM class; rejected if this chain has none."""
        try:
            fork = self.config.fork_at(header.timestamp)
            return fork, FORK_VMS[fork].for_chain(self.config, fork)
        except (UnsupportedChainConfig, KeyError) as exc:
            raise BlockRejected(
                Rule.UNSUPPORTED_FORK, f"no VM for timestamp {header.timestamp}: {exc}"
            ) from None

    def _check_header(self, decoded: PreparedBlock) -> None:
        header = decoded.block.header
        try:
            decoded.vm_class.validate_header(header, decoded.parent)
        except ValidationError as exc:
            raise BlockRejected(Rule.INVALID_HEADER, str(exc)) from None
        require(header.gas_used <= header.gas_limit, Rule.GAS_USED_ABOVE_LIMIT, f"{header.gas_used}")

    @staticmethod
    def _check_body(block: BlockAPI, encoded: EncodedBlock) -> None:
        # The transactions as the block holds them: py-evm's ``encode`` would build the same bytes again.
        tx_root = ordered_trie_root(encoded.transaction_encodings)
        require(tx_root == block.header.transaction_root, Rule.TRANSACTIONS_ROOT_MISMATCH, "")
        require(not block.uncles, Rule.UNCLES_PRESENT, f"{len(block.uncles)} uncles")
        withdrawals = getattr(block, "withdrawals", None)
        if withdrawals is not None:
            root = ordered_trie_root(w.encode() for w in withdrawals)
            require(root == block.header.withdrawals_root, Rule.WITHDRAWALS_ROOT_MISMATCH, "")

    @staticmethod
    def _check_given_bal(block: BlockAPI, bal: BlockAccessList) -> None:
        """A given BAL must hash to the header's commitment and be well formed (EIP-7928).

        The item limit is left for after execution: a block whose transactions
        are invalid must be rejected for that, not for its BAL's size.
        """
        expected = getattr(block.header, "block_access_list_hash", None)
        if expected is None:
            raise BlockRejected(Rule.UNEXPECTED_BLOCK_ACCESS_LIST, "a block before Amsterdam has no BAL")
        try:
            check_hash(bal, expected)
            validate_structure(bal, tx_count=len(block.transactions))
        except BalError as exc:
            raise BlockRejected.from_bal_error(exc) from None

    def _commit(self, writes: StateWrites, block: StoredBlock, flat_changes: FlatChanges) -> None:
        """The block, its trie nodes and code, and its changes to the flat state (applied by fork choice)."""
        batch = WriteBatch()
        writes.stage_trie(batch)
        Chain.stage_block(batch, block)
        batch.put(Space.FLAT_CHANGES, block.block_hash, flat_changes.encoding)
        self.store.commit(batch)
        self._last_committed = {block.block_hash: flat_changes}

    # -- fork choice ----------------------------------------------------------

    def header(self, block_hash: bytes) -> BlockHeaderAPI | None:
        """The stored block's header, decoded; None if no block of that hash is stored.

        Decoded headers are kept (a stored header never changes, and blocks are
        never deleted): fork choice reads the new head's and the old head's, and
        the next block's prepare reads its parent's, the same few headers each
        time. At :data:`HEADER_CACHE_SIZE` the cache starts over.
        """
        header = self._headers.get(block_hash)
        if header is None:
            header_rlp = self.chain.header_rlp(block_hash)
            if header_rlp is None:
                return None
            header = decode_header(header_rlp)
            if len(self._headers) >= HEADER_CACHE_SIZE:
                self._headers.clear()
            self._headers[block_hash] = header
        return header

    def set_forkchoice(self, head: bytes, safe: bytes | None = None, finalized: bytes | None = None) -> None:
        """Make ``head`` the head and the canonical chain end there; set safe/finalized if given.

        Every named block must be stored (else :class:`UnknownBlock`, and
        nothing changes). The canonical entries of the old branch above the
        fork point are replaced by the new branch's, and the flat state moves
        to the head (``client.flat_state_moves``), in one batch.
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
            header = self.header(block_hash)
            assert header is not None  # the chain from a stored head down to genesis is stored
            block_hash = header.parent_hash
            number -= 1
        Chain.stage_pointer(batch, HEAD, head)
        if safe is not None:
            Chain.stage_pointer(batch, SAFE, safe)
        if finalized is not None:
            Chain.stage_pointer(batch, FINALIZED, finalized)
        stage_flat_state_move(self.store, batch, head, self._last_committed)
        self.store.commit(batch)
