"""Building valid blocks by executing them with balrex itself.

A block's header commits to what executing it produces (gas used, receipts,
bloom, state root, requests hash and, from Amsterdam, the BAL hash), so the
builder runs the transactions once on a draft whose execution inputs are
final (number, timestamp, base fee, randao, beacon root, slot), fills those
commitments in, and then imports the finished block through
``Blockchain.add_block`` like any other: a block the importer rejects is
never written out. The builder keeps its chain in a :class:`MemoryStore`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_hash.auto import keccak

from bal import BlockAccessList, bal_hash
from client.blockchain import Blockchain
from client.forks import FORK_VMS
from client.genesis import build_genesis
from merkle import merkleize, ordered_trie_root
from pipeline import import_block_sync
from pipeline.chain import BlockExecution
from pipeline.state_source import StateSource
from storage import MemoryStore

SECONDS_PER_SLOT = 12
# Priority fees go here: one more account every block's BAL touches, as on mainnet.
FEE_RECIPIENT = keccak(b"balrex bench-chain fee recipient")[12:]


@dataclass(frozen=True)
class BuiltBlock:
    rlp: bytes
    header: BlockHeaderAPI
    receipts: tuple[ReceiptAPI, ...]
    block_access_list: BlockAccessList | None


class ChainBuilder:
    """Extends a chain from ``genesis`` one block at a time; every block is imported before the next."""

    def __init__(self, genesis: Mapping[str, Any], randomness: bytes) -> None:
        built = build_genesis(genesis)
        self.config = built.config
        self.genesis_hash = built.block_hash
        self.blockchain = Blockchain(MemoryStore(), built.config)
        self.blockchain.init_genesis_state(built.state, built.block_rlp)
        self.head = self._header(built.block_hash)
        self._next_fork()
        # Randao and beacon roots are drawn from this, so they differ between seeds.
        self._randomness = randomness

    def _next_fork(self) -> None:
        """The fork (and VM) of the next block: the fork of its timestamp, which may be a new one."""
        self.fork = self.config.fork_at(self.head.timestamp + SECONDS_PER_SLOT)
        self.vm_class = FORK_VMS[self.fork].for_chain(self.config, self.fork)

    def _header(self, block_hash: bytes) -> BlockHeaderAPI:
        header = self.blockchain.header(block_hash)
        assert header is not None, "the builder's own block is stored"
        return header

    def next_base_fee(self) -> int:
        return calculate_expected_base_fee_per_gas(self.head)

    def tx_builder(self) -> Any:
        return self.vm_class.get_transaction_builder()

    def build(self, transactions: Sequence[SignedTransactionAPI]) -> BuiltBlock:
        """Build, import and make head the next block holding ``transactions`` in order."""
        block_class = self.vm_class.get_block_class()
        # The transactions as this block's fork decodes them (the mix may have built them earlier).
        builder = self.tx_builder()
        transactions = [builder.decode(transaction.encode()) for transaction in transactions]
        draft = block_class(self._draft_header(transactions), transactions=transactions, withdrawals=[])
        execution = self._execute(draft)
        commitments: dict[str, Any] = dict(
            state_root=merkleize(self.blockchain.store, self.head.state_root, execution.deltas).state_root,
            receipt_root=ordered_trie_root(receipt.encode() for receipt in execution.receipts),
            bloom=execution.bloom,
            gas_used=execution.gas_used,
        )
        if execution.requests_hash is not None:
            commitments["requests_hash"] = execution.requests_hash
        bal = execution.block_access_list
        if bal is not None:
            commitments["block_access_list_hash"] = bal_hash(bal)
        block = draft.copy(header=draft.header.copy(**commitments))
        block_rlp = rlp.encode(block)
        imported = import_block_sync(self.blockchain, block_rlp, bal=bal)
        self.blockchain.set_forkchoice(imported.block_hash)
        self.head = self._header(imported.block_hash)
        self._next_fork()
        return BuiltBlock(block_rlp, self.head, execution.receipts, bal)

    def _draft_header(self, transactions: Sequence[SignedTransactionAPI]) -> BlockHeaderAPI:
        """The next header with every execution input final and every commitment still open."""
        parent = self.head
        number = parent.block_number + 1
        header_class = dict(self.vm_class.get_block_class()._meta.fields)["header"]
        fields: dict[str, Any] = dict(
            parent_hash=parent.hash,
            uncles_hash=EMPTY_UNCLE_HASH,
            coinbase=FEE_RECIPIENT,
            state_root=parent.state_root,
            transaction_root=ordered_trie_root(tx.encode() for tx in transactions),
            difficulty=0,
            block_number=number,
            gas_limit=parent.gas_limit,
            timestamp=parent.timestamp + SECONDS_PER_SLOT,
            extra_data=parent.extra_data,
            mix_hash=keccak(self._randomness + b"randao" + number.to_bytes(8, "big")),
            nonce=b"\x00" * 8,
            base_fee_per_gas=self.next_base_fee(),
            withdrawals_root=BLANK_ROOT_HASH,
            blob_gas_used=0,
            excess_blob_gas=0,  # no blobs in the mix, so the excess stays at genesis's 0
            parent_beacon_block_root=keccak(self._randomness + b"beacon" + number.to_bytes(8, "big")),
        )
        if "slot_number" in dict(header_class._meta.fields):
            fields["slot_number"] = number
        return header_class(**fields)

    def _execute(self, draft: Any) -> BlockExecution:
        """Run ``draft`` on the head's state the way ``Blockchain.add_block`` does, storing nothing."""
        source = StateSource(self.blockchain.store, self.head.state_root, parent_has_flat_state=True)
        return self.blockchain.block_vm(self.vm_class, draft.header, source).execute_block(draft)
