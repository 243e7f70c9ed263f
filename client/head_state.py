"""The head's state as the next block would see it: for the pool's checks and for ``eth_call``.

A :class:`HeadView` pairs the head block with the execution inputs of the block
that would follow it (number, timestamp one slot later, base fee, excess blob
gas, gas limit, slot number), the fork of that block and its VM class. Its
:meth:`HeadView.state` is a fresh py-evm state of that fork on the head's
state: whatever a caller does to it (apply a message, set a nonce) stays in
memory and is dropped with it, nothing reaches the store.

Reads: the flat state when the head is the block the flat state holds (fast,
for the pool's few reads on the event loop's thread), else the head's tries.
``tries=True`` forces the tries: a long ``eth_call`` running in a worker
thread must not see the flat state change under it when a block is imported
meanwhile; trie nodes are content-addressed and never rewritten, so a read of
the head's root stays consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth._utils.calculations import fake_exponential
from eth.abc import BlockHeaderAPI, StateAPI
from eth.vm.chain_context import ChainContext
from eth.vm.forks.cancun.constants import BLOB_BASE_FEE_UPDATE_FRACTION, MIN_BLOB_BASE_FEE
from eth.vm.forks.prague.constants import BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE

from pipeline.state_source import StateSource
from storage import FLAT_STATE_BLOCK

from .block_builder import BlockAttributes, next_block_header
from .blockchain import Blockchain
from .chain_config import Fork
from .chaindb import StoreChainDB
from .forks import FORK_VMS
from .forks.osaka import blob_base_fee

SECONDS_PER_SLOT = 12

_BLOB_FEE_FRACTION_BEFORE_OSAKA = {
    Fork.CANCUN: BLOB_BASE_FEE_UPDATE_FRACTION,
    Fork.PRAGUE: BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
}


class NoHead(LookupError):
    """The store holds no head block (no genesis yet)."""


def blob_base_fee_of(vm_class: type, fork: Fork, header: BlockHeaderAPI) -> int:
    """The blob base fee of the block ``header`` heads (what its blob transactions pay per blob gas)."""
    excess = header.excess_blob_gas
    params = getattr(vm_class, "blob_params", None)
    if params is not None:
        return int(blob_base_fee(excess, params))
    return int(fake_exponential(MIN_BLOB_BASE_FEE, excess, _BLOB_FEE_FRACTION_BEFORE_OSAKA[fork]))


@dataclass(frozen=True)
class HeadView:
    blockchain: Blockchain
    head: BlockHeaderAPI
    fork: Fork  # the next block's fork
    vm_class: type
    next_header: BlockHeaderAPI  # the next block's execution inputs; its commitments are the head's

    @property
    def base_fee(self) -> int:
        """The next block's base fee (EIP-1559)."""
        return int(self.next_header.base_fee_per_gas)

    @property
    def blob_base_fee(self) -> int:
        """The next block's blob base fee."""
        return blob_base_fee_of(self.vm_class, self.fork, self.next_header)

    def transaction_builder(self) -> Any:
        return self.vm_class.get_transaction_builder()

    def state(self, *, tries: bool = False, header: BlockHeaderAPI | None = None) -> StateAPI:
        """A throw-away state of the next block's fork on the head's state (``header``: other inputs)."""
        flat = not tries and self.head.hash == self.blockchain.chain.pointer(FLAT_STATE_BLOCK)
        source = StateSource(self.blockchain.store, self.head.state_root, parent_has_flat_state=flat)
        chaindb = StoreChainDB(self.blockchain.chain, source)
        context_header = header if header is not None else self.next_header
        previous_hashes = self.vm_class.get_prev_hashes(self.head.hash, chaindb)
        state: StateAPI = self.vm_class.build_state(
            source, context_header, ChainContext(self.blockchain.config.chain_id), previous_hashes
        )
        return state


def head_view(blockchain: Blockchain, timestamp: int | None = None) -> HeadView:
    """The view of the current head; the next block one slot later unless ``timestamp`` is given."""
    head_hash = blockchain.chain.head_hash()
    head = blockchain.header(head_hash) if head_hash is not None else None
    if head is None:
        raise NoHead("the store holds no head block")
    return view_at(blockchain, head, timestamp)


def view_at(blockchain: Blockchain, block: BlockHeaderAPI, timestamp: int | None = None) -> HeadView:
    """The view of any stored block (its state read from its tries unless it is the flat state's)."""
    next_timestamp = block.timestamp + SECONDS_PER_SLOT if timestamp is None else timestamp
    fork = blockchain.config.fork_at(next_timestamp)
    vm_class = FORK_VMS[fork].for_chain(blockchain.config, fork)
    return HeadView(
        blockchain,
        block,
        fork,
        vm_class,
        next_block_header(vm_class, fork, block, BlockAttributes.for_reads(block, next_timestamp)),
    )
