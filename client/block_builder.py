"""Building the next block: pick transactions, execute them, fill in what the header commits to.

One builder for every producer of blocks: the Engine API's payload building
(``engine_forkchoiceUpdated`` with payload attributes, then ``getPayload``)
and the bench-chain generator. A block is built in two runs of the fork's own
classes on the parent state:

1. **Selection**: the candidates (best first, a :class:`Candidates` queue
   such as the pool's ``PendingQueue``) run one by one after the block's
   pre-processing system calls. A candidate that does not fit what is left of
   the block (gas, EIP-7778/8037's two-dimensional block gas from Amsterdam,
   the fork's blob gas maximum, EIP-7934's RLP size limit from Osaka) is left
   out (``pop``) and stays valid for a later block. A candidate the fork
   refuses (py-evm's ``ValidationError`` or a ``VMError`` out of its top-level
   message: bad nonce, balance short of the cost, EIP-7825's gas cap ...) is
   reverted to the snapshot taken before it, left out and reported as
   :attr:`ProducedBlock.invalid` so the pool can drop it. Nothing here
   records a BAL.
2. **Sealing**: the chosen transactions run again as a whole block through
   ``execute_block``, the same code an import runs, which records the BAL
   (Amsterdam), the receipts, the requests; the deltas are merkleized on the
   parent root and the header's commitments filled in (state and receipts
   roots, bloom, gas used, blob gas used, requests hash, BAL hash).

Running twice costs a second execution but keeps the sealed block exactly
what an importer computes: the selection's reverted candidates cannot leak
into the BAL, and the sealing run is the importer's own.

:func:`next_block_header` (the execution inputs of the block after a parent)
is also what the pool and ``eth_call`` see as the next block
(``client.head_state``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH, GAS_TX
from eth.exceptions import VMError
from eth.vm.forks.cancun import get_total_blob_gas
from eth.vm.forks.cancun.constants import GAS_PER_BLOB
from eth.vm.forks.cancun.headers import calc_excess_blob_gas_cancun
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague.headers import calc_excess_blob_gas_prague
from eth.vm.forks.shanghai.withdrawals import Withdrawal
from eth_utils import ValidationError

from bal import BlockAccessList, bal_hash
from merkle import merkleize, ordered_trie_root
from pipeline.chain import BlockExecution
from pipeline.state_source import StateSource

from .blockchain import Blockchain
from .chain_config import Fork
from .forks import FORK_VMS
from .forks.amsterdam.later_part import BlockGas, TransactionOutcome
from .forks.osaka import excess_blob_gas

# Before Osaka the excess blob gas follows py-evm's per-fork constants.
_EXCESS_BLOB_GAS_BEFORE_OSAKA = {
    Fork.CANCUN: calc_excess_blob_gas_cancun,
    Fork.PRAGUE: calc_excess_blob_gas_prague,
}
# RLP list overhead of one transaction in the block body, at most (a long list prefix).
_TX_ENVELOPE = 9


class BlockNotSealed(RuntimeError):
    """The sealing run refused transactions the selection run accepted (a builder bug, not bad input)."""


@dataclass(frozen=True)
class BlockAttributes:
    """What the proposer chooses for a block (the Engine API's payload attributes)."""

    timestamp: int
    fee_recipient: bytes
    prev_randao: bytes
    parent_beacon_block_root: bytes
    withdrawals: tuple[Withdrawal, ...] = ()
    # Amsterdam's EIP-7843 slot; None: the parent's plus one.
    slot_number: int | None = None
    extra_data: bytes = b""

    @classmethod
    def for_reads(cls, parent: BlockHeaderAPI, timestamp: int) -> BlockAttributes:
        """Placeholder choices for a next block that is only read (the pool, ``eth_call``)."""
        return cls(timestamp, b"\x00" * 20, parent.mix_hash, b"\x00" * 32)


def next_excess_blob_gas(vm_class: type, fork: Fork, parent: BlockHeaderAPI) -> int:
    """The excess blob gas of the block after ``parent`` under ``fork``'s blob rules."""
    params = getattr(vm_class, "blob_params", None)
    if params is not None:
        return excess_blob_gas(parent, params)
    return _EXCESS_BLOB_GAS_BEFORE_OSAKA[fork](parent)


def next_block_header(
    vm_class: type, fork: Fork, parent: BlockHeaderAPI, attributes: BlockAttributes
) -> BlockHeaderAPI:
    """The header of the block after ``parent``: its execution inputs set, its commitments open.

    The commitments (state root, gas used, bloom ...) are the parent's or
    empty until :func:`build_block` fills them in.
    """
    number = parent.block_number + 1
    header_class = dict(vm_class.get_block_class()._meta.fields)["header"]
    fields: dict[str, Any] = dict(
        parent_hash=parent.hash,
        uncles_hash=EMPTY_UNCLE_HASH,
        coinbase=attributes.fee_recipient,
        state_root=parent.state_root,
        transaction_root=BLANK_ROOT_HASH,
        difficulty=0,
        block_number=number,
        gas_limit=parent.gas_limit,
        timestamp=attributes.timestamp,
        extra_data=attributes.extra_data,
        mix_hash=attributes.prev_randao,
        nonce=b"\x00" * 8,
        base_fee_per_gas=calculate_expected_base_fee_per_gas(parent),
        withdrawals_root=ordered_trie_root(w.encode() for w in attributes.withdrawals),
        blob_gas_used=0,
        excess_blob_gas=next_excess_blob_gas(vm_class, fork, parent),
        parent_beacon_block_root=attributes.parent_beacon_block_root,
    )
    if "slot_number" in dict(header_class._meta.fields):
        parent_slot = getattr(parent, "slot_number", parent.block_number)
        fields["slot_number"] = parent_slot + 1 if attributes.slot_number is None else attributes.slot_number
    return header_class(**fields)


class Candidate(Protocol):
    @property
    def transaction(self) -> SignedTransactionAPI: ...


class Candidates(Protocol):
    """Transactions offered best first (``client.txpool.PendingQueue`` is one).

    ``shift`` after the best went into the block, ``pop`` after it did not.
    """

    def peek(self) -> Candidate | None: ...

    def shift(self) -> None: ...

    def pop(self) -> None: ...


@dataclass(frozen=True)
class ProducedBlock:
    block: BlockAPI
    rlp: bytes
    fork: Fork
    receipts: tuple[ReceiptAPI, ...]
    block_access_list: BlockAccessList | None  # Amsterdam on
    execution_requests: tuple[bytes, ...] | None  # Prague on: the non-empty requests, by type
    block_value: int  # priority fees the fee recipient receives, wei
    included: tuple[Candidate, ...]
    invalid: tuple[Candidate, ...]  # refused by the fork's rules: no later block takes them either

    @property
    def header(self) -> BlockHeaderAPI:
        return self.block.header

    @property
    def hash(self) -> bytes:
        return bytes(self.block.header.hash)


def build_block(
    blockchain: Blockchain,
    parent: BlockHeaderAPI,
    attributes: BlockAttributes,
    candidates: Candidates,
    *,
    parent_has_flat_state: bool,
) -> ProducedBlock:
    """Build the block after ``parent`` from ``candidates``; nothing is stored.

    ``parent_has_flat_state``: read the parent state from the flat state (the
    caller holds what keeps it there), else from the parent's tries.
    """
    config = blockchain.config
    fork = config.fork_at(attributes.timestamp)
    vm_class = FORK_VMS[fork].for_chain(config, fork)
    header = next_block_header(vm_class, fork, parent, attributes)
    block_class = vm_class.get_block_class()
    empty = block_class(header, transactions=[], withdrawals=list(attributes.withdrawals))

    def source() -> StateSource:
        return StateSource(blockchain.store, parent.state_root, parent_has_flat_state=parent_has_flat_state)

    selection = _Selection(blockchain, vm_class, empty, source(), config.blob_params(fork).max * GAS_PER_BLOB)
    included, transactions, invalid = selection.run(candidates)
    draft = block_class(
        header.copy(transaction_root=ordered_trie_root(tx.encode() for tx in transactions)),
        transactions=transactions,
        withdrawals=list(attributes.withdrawals),
    )
    vm = blockchain.block_vm(keeping_requests(vm_class), draft.header, source())
    try:
        execution: BlockExecution = vm.execute_block(draft)
    except (ValidationError, VMError) as exc:
        raise BlockNotSealed(f"the sealing run refused the selected transactions: {exc}") from exc
    commitments: dict[str, Any] = dict(
        state_root=merkleize(
            blockchain.store, parent.state_root, execution.deltas, blockchain.trie_nodes()
        ).state_root,
        receipt_root=ordered_trie_root(execution.encoded_receipts),
        bloom=execution.bloom,
        gas_used=execution.gas_used,
    )
    if execution.blob_gas_used is not None:
        commitments["blob_gas_used"] = execution.blob_gas_used
    requests = None
    if execution.requests_hash is not None:
        commitments["requests_hash"] = execution.requests_hash
        requests = tuple(request for request in vm.block_requests if len(request) > 1)
    if execution.block_access_list is not None:
        commitments["block_access_list_hash"] = bal_hash(execution.block_access_list)
    block = draft.copy(header=draft.header.copy(**commitments))
    block_rlp = rlp.encode(block)
    vm_class.validate_block_rlp_size(len(block_rlp))  # the selection kept within it
    return ProducedBlock(
        block=block,
        rlp=block_rlp,
        fork=fork,
        receipts=execution.receipts,
        block_access_list=execution.block_access_list,
        execution_requests=requests,
        block_value=block_value(transactions, execution.receipts, header.base_fee_per_gas),
        included=tuple(included),
        invalid=tuple(invalid),
    )


def block_value(
    transactions: Sequence[SignedTransactionAPI], receipts: Sequence[ReceiptAPI], base_fee: int
) -> int:
    """The priority fees of a block: each transaction's gas used times its effective tip."""
    value, cumulative = 0, 0
    for transaction, receipt in zip(transactions, receipts, strict=True):
        gas_used = receipt.gas_used - cumulative
        cumulative = receipt.gas_used
        tip = min(transaction.max_priority_fee_per_gas, transaction.max_fee_per_gas - base_fee)
        value += gas_used * tip
    return value


class _Selection:
    """The selection run: candidates one by one on the parent state, each reverted if refused."""

    def __init__(
        self, blockchain: Blockchain, vm_class: type, empty: BlockAPI, source: StateSource, max_blob_gas: int
    ) -> None:
        self.vm = blockchain.block_vm(vm_class, empty.header, source)
        self.vm_class = vm_class
        self.tx_builder = vm_class.get_transaction_builder()
        self.max_blob_gas = max_blob_gas
        self.header = empty.header
        # Two-dimensional block gas (EIP-7778/8037) from Amsterdam on; gas used in the header before.
        self.block_gas = BlockGas(empty.header) if vm_class.records_block_access_list else None
        self.blob_gas = 0
        self.size = len(rlp.encode(empty))
        self.vm._open_block_state(empty)
        self.vm.block_preprocessing(empty)

    def run(
        self, candidates: Candidates
    ) -> tuple[list[Candidate], list[SignedTransactionAPI], list[Candidate]]:
        """The candidates included, their transactions as the block's fork decodes them, the refused."""
        included: list[Candidate] = []
        transactions: list[SignedTransactionAPI] = []
        invalid: list[Candidate] = []
        while (candidate := candidates.peek()) is not None and self._gas_left() >= GAS_TX:
            # Decoded by this block's fork (a pool decodes for its head's next fork, a caller by its own).
            transaction = self.tx_builder.decode(candidate.transaction.encode())
            if not self._fits(transaction):
                candidates.pop()
            elif self._apply(transaction):
                included.append(candidate)
                transactions.append(transaction)
                candidates.shift()
            else:
                invalid.append(candidate)
                candidates.pop()
        return included, transactions, invalid

    def _gas_left(self) -> int:
        if self.block_gas is not None:
            return int(self.header.gas_limit - max(self.block_gas.regular, self.block_gas.state))
        return int(self.header.gas_limit - self.header.gas_used)

    def _fits(self, transaction: SignedTransactionAPI) -> bool:
        """Whether ``transaction`` fits what is left of the block's gas, blob gas and size."""
        if self.blob_gas + get_total_blob_gas(transaction) > self.max_blob_gas:
            return False
        try:
            self.vm_class.validate_block_rlp_size(self.size + len(transaction.encode()) + _TX_ENVELOPE)
        except ValidationError:
            return False
        if self.block_gas is None:
            return bool(transaction.gas <= self.header.gas_limit - self.header.gas_used)
        try:
            self.block_gas.admit(transaction)
        except ValidationError:
            return False
        return True

    def _apply(self, transaction: SignedTransactionAPI) -> bool:
        """Run ``transaction`` as the block's next; False (and nothing changed) if refused."""
        state = self.vm.state
        state.lock_changes()
        snapshot = state.snapshot()
        try:
            if self.block_gas is not None:
                outcome = TransactionOutcome.of(state.apply_transaction(transaction))
            else:
                receipt, _ = self.vm.apply_transaction(self.header, transaction)
        except (ValidationError, VMError):
            state.revert(snapshot)
            return False
        state.commit(snapshot)
        if self.block_gas is not None:
            self.block_gas.add(transaction, outcome)
        else:
            self.header = self.vm.add_receipt_to_header(self.header, receipt)
        self.blob_gas += get_total_blob_gas(transaction)
        self.size += len(transaction.encode()) + _TX_ENVELOPE
        return True


class _KeepsRequests:
    """VM mixin: keep the execution requests (EIP-7685) the block's post-processing collects.

    py-evm gathers them on the block object it post-processes and returns
    only their hash in a copy; getPayload hands the requests themselves out.
    """

    block_requests: tuple[bytes, ...] = ()

    def block_postprocessing(self, block: BlockAPI) -> BlockAPI:
        processed: BlockAPI = super().block_postprocessing(block)  # type: ignore[misc]
        self.block_requests = tuple(getattr(block, "block_requests", ()))
        return processed


@functools.cache
def keeping_requests(vm_class: type) -> type:
    """``vm_class`` keeping the requests of the block it post-processes (``block_requests``)."""
    return type(f"Building{vm_class.__name__}", (_KeepsRequests, vm_class), {})
