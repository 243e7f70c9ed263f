"""Extending a bench chain with blocks built by balrex itself (``client.block_builder``).

Every block is built by the shared block builder from a fixed list of
transactions (the mix draws only transactions that are valid in order, so
each one must go in: a transaction left out means the block is full), then
imported through the pipeline like any other: a block the importer rejects is
never written out. The builder keeps its chain in a :class:`MemoryStore`.
Randao and beacon roots are drawn from the chain's randomness, timestamps are
one slot apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_hash.auto import keccak
from eth_utils import ValidationError

from client.block_builder import BlockAttributes, ProducedBlock, build_block
from client.blockchain import Blockchain
from client.forks import FORK_VMS
from client.genesis import build_genesis
from pipeline import import_block_sync
from storage import MemoryStore

SECONDS_PER_SLOT = 12
# Priority fees go here: one more account every block's BAL touches, as on mainnet.
FEE_RECIPIENT = keccak(b"balrex bench-chain fee recipient")[12:]


@dataclass(frozen=True)
class _Listed:
    transaction: SignedTransactionAPI


class _InOrder:
    """The mix's transactions as block candidates, in their order (``client.block_builder.Candidates``)."""

    def __init__(self, transactions: Sequence[SignedTransactionAPI]) -> None:
        self._candidates = [_Listed(transaction) for transaction in transactions]
        self._next = 0

    def peek(self) -> _Listed | None:
        return self._candidates[self._next] if self._next < len(self._candidates) else None

    def shift(self) -> None:
        self._next += 1

    def pop(self) -> None:
        self._next += 1


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

    def build(self, transactions: Sequence[SignedTransactionAPI]) -> ProducedBlock:
        """Build, import and make head the next block holding ``transactions`` in order.

        Raises ``ValidationError`` if any of them cannot go in (invalid, or the block is full).
        """
        produced = build_block(
            self.blockchain, self.head, self._attributes(), _InOrder(transactions), parent_has_flat_state=True
        )
        if len(produced.included) != len(transactions):
            first_out = len(produced.included)
            reason = "is invalid" if produced.invalid else "does not fit"
            raise ValidationError(f"transaction {first_out} of {len(transactions)} {reason}")
        imported = import_block_sync(self.blockchain, produced.rlp, bal=produced.block_access_list)
        self.blockchain.set_forkchoice(imported.block_hash)
        self.head = self._header(imported.block_hash)
        self._next_fork()
        return produced

    def _attributes(self) -> BlockAttributes:
        number = (self.head.block_number + 1).to_bytes(8, "big")
        return BlockAttributes(
            timestamp=self.head.timestamp + SECONDS_PER_SLOT,
            fee_recipient=FEE_RECIPIENT,
            prev_randao=keccak(self._randomness + b"randao" + number),
            parent_beacon_block_root=keccak(self._randomness + b"beacon" + number),
            slot_number=self.head.block_number + 1,
            extra_data=self.head.extra_data,
        )
