"""What every balrex fork adds to py-evm's VM of the same name.

* :class:`StoreExecution` (VM mixin): ``execute_block`` does everything
  py-evm's ``import_block`` does up to, but not including, finalization, so the
  state root is left to ``merkle/`` (the streaming merkleizer, or the
  optimistic one on the BAL path).
* :class:`StoreState` (state mixin): the account database over our store, and
  the transaction checks py-evm leaves out.
* :class:`OriginIsDepthZero` (computation mixin): a correction to py-evm's
  notion of the transaction's own message.
* :class:`EagerStackProxies` (computation mixin): the stack's push and pop
  methods bound when a computation is made, not through ``cached_property``.
* :class:`StoreComputation`: the computation mixins every fork's computation
  takes (these two and ``jump_analysis.SharedJumpAnalysis``), in their order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from eth._utils.numeric import ceil32
from eth._utils.state import code_is_delegation_designation
from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth.vm.forks.cancun import get_total_blob_gas
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth.vm.forks.shanghai.constants import INITCODE_WORD_COST
from eth_utils import ExtendedDebugLogger, ValidationError, get_extended_debug_logger

from bal import BlockAccessList
from bal.recorder import BalRecorder
from pipeline.chain import BlockExecution, LaterPart
from pipeline.receipts import LogEntry

from ..account_db import StoreAccountDB
from ..chain_config import ChainConfig
from ..senders import recover_senders
from .jump_analysis import SharedJumpAnalysis
from .receipts import BlockReceipts, logs_bloom, make_receipt

# Caches a header keeps of its own encoding and hash: a changed copy must not inherit them.
_HEADER_CACHES = ("_hash", "_hash_cache", "_cached_rlp")


def replace_header_fields(header: BlockHeaderAPI, **fields: object) -> BlockHeaderAPI:
    """``header.copy(**fields)``, without pyrlp's per-field deep copies and argument merging.

    py-evm grows a block's header twice per transaction (gas and bloom after
    its receipt, then its blob gas): through ``copy`` that was about a tenth
    of a Prague bench block's execution (exec 157 -> 140 ms). A header's fields are immutable values (ints,
    bytes), so the copy shares the ones it keeps. An unknown field name raises
    KeyError.
    """
    meta: Any = header._meta  # type: ignore[attr-defined]
    attributes = dict(zip(meta.field_names, meta.field_attrs, strict=True))
    state = {name: value for name, value in vars(header).items() if name not in _HEADER_CACHES}
    for name, value in fields.items():
        state[attributes[name]] = value
    copy = object.__new__(type(header))
    vars(copy).update(state)
    return copy


def with_header(block: BlockAPI, header: BlockHeaderAPI) -> BlockAPI:
    """``block`` with another header, sharing its body.

    py-evm's ``block.copy(header=...)`` deep-copies every field it is not
    given: about 5 ms for a block of 200 transactions, three times a block.
    """
    body = {name: getattr(block, name) for name in block._meta.field_names if name != "header"}
    return block.copy(header=header, **body)


class StoreExecution:
    """Mixin for a py-evm VM: execute a block on a StateSource, return deltas, not a root."""

    # The logs of the block being executed, in order (Prague's deposit requests read them).
    _block_logs: tuple[LogEntry, ...] = ()
    # Forks from Amsterdam on record the block access list while executing.
    records_block_access_list: bool = False

    @classmethod
    def for_chain(cls, config: ChainConfig, fork: str) -> type:
        """The VM class to run ``fork`` of this chain (later forks take chain parameters)."""
        return cls

    @classmethod
    def validate_block_rlp_size(cls, size: int) -> None:
        """No limit before Osaka (EIP-7934)."""

    def execute_block(
        self: Any,
        block: BlockAPI,
        *,
        with_deltas: bool = True,
        later: LaterPart | None = None,
        given: BlockAccessList | None = None,
    ) -> BlockExecution:
        """Run the block on the parent state; ``with_deltas=False`` when a BAL supplies them.

        ``later``: the block's later transactions run elsewhere, from the state
        the given BAL claims (Amsterdam on; see ``amsterdam.later_part``).
        ``given``: the BAL that came with the block. If execution recorded
        exactly that one, it is the execution's BAL (``BalRecorder.matches``);
        otherwise the recorded one is built, for the checks to name the difference.
        """
        db = self._open_block_state(block)
        running = self._block.header
        recorder = BalRecorder() if self.records_block_access_list else None
        if recorder is not None:
            db.start_recording(recorder)
        self.block_preprocessing(block)
        if recorder is not None:
            db.finish_index(0)
        # The senders of the transactions run here, in one batch (``client.senders``: same
        # results as py-evm's, a fraction of its time); a later part recovers its own.
        recover_senders(block.transactions if later is None else block.transactions[: later.first])
        result_header, receipts = self.run_transactions(block.transactions, running, later)
        withdrawals = getattr(block, "withdrawals", ())
        if withdrawals:
            self.apply_all_withdrawals(withdrawals)
        self._block_logs = receipts.logs
        processed = self.block_postprocessing(with_header(block, result_header))
        if recorder is not None:
            db.finish_index(len(block.transactions) + 1)
        if with_deltas:
            deltas = db.account_deltas()
        else:
            db.lock_changes()
            deltas = []
        if recorder is not None:
            db.stop_recording()
        return BlockExecution(
            gas_used=result_header.gas_used,
            blob_gas_used=getattr(result_header, "blob_gas_used", None),
            bloom=result_header.bloom,
            encoded_receipts=receipts.encoded,
            decode_receipt=self.get_receipt_builder().decode,
            requests_hash=getattr(processed.header, "requests_hash", None),
            deltas=deltas,
            block_access_list=_executed_bal(recorder, given),
        )

    @classmethod
    def make_receipt(
        cls: Any,
        base_header: BlockHeaderAPI,
        transaction: SignedTransactionAPI,
        computation: ComputationAPI,
        state: StateAPI,
    ) -> ReceiptAPI:
        """Byzantium's receipt (EIP-658 status, cumulative gas), its bloom by ``receipts.logs_bloom``."""
        gas_used = base_header.gas_used + cls.finalize_gas_used(transaction, computation)
        failed = computation.is_error
        status = EIP658_TRANSACTION_STATUS_CODE_FAILURE if failed else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
        logs = computation.get_log_entries()
        return make_receipt(transaction, status, gas_used, logs, logs_bloom(logs))

    @classmethod
    def validate_receipt(cls, receipt: ReceiptAPI) -> None:
        """Nothing to check here: the receipt is balrex's own, built by :meth:`make_receipt`.

        py-evm checks, after every transaction, that the receipt it has just built
        has an EIP-658 status and each log's address and topics in its bloom:
        about 3% of a Prague block's execution. :meth:`make_receipt` sets one of
        the two statuses and derives the bloom from the logs (``receipts.logs_bloom``,
        tested equal to py-evm's bloom), and the block's receipts root, checked
        against the header, commits to every byte of every receipt.
        """

    def add_receipt_to_header(self, old_header: BlockHeaderAPI, receipt: ReceiptAPI) -> BlockHeaderAPI:
        """Byzantium's: the receipt's bloom joins the header's, its cumulative gas becomes the header's."""
        bloom = old_header.bloom | receipt.bloom
        return replace_header_fields(old_header, bloom=bloom, gas_used=receipt.gas_used)

    def increment_blob_gas_used(
        self, old_header: BlockHeaderAPI, transaction: SignedTransactionAPI
    ) -> BlockHeaderAPI:
        """Cancun's: the transaction's blob gas is added to the header's."""
        blob_gas_used = old_header.blob_gas_used + get_total_blob_gas(transaction)  # type: ignore[attr-defined]
        return replace_header_fields(old_header, blob_gas_used=blob_gas_used)

    def run_transactions(
        self: Any,
        transactions: Sequence[SignedTransactionAPI],
        running: BlockHeaderAPI,
        later: LaterPart | None,
    ) -> tuple[BlockHeaderAPI, BlockReceipts]:
        """The block's transactions on the running header: py-evm's loop, receipts encoded once.

        Amsterdam replaces it (its block gas accounting, and a later part run elsewhere).
        """
        if later is not None:
            raise NotImplementedError(f"{type(self).__name__} cannot execute a block in parts (Amsterdam on)")
        header, receipts, _ = self.apply_all_transactions(transactions, running)
        return header, BlockReceipts.of(receipts)

    def _open_block_state(self: Any, block: BlockAPI) -> StoreAccountDB:
        """Make the block the VM's current block and its state the parent's; return the account db.

        The current block's header is the block's own with gas and bloom
        zeroed, so py-evm never loads a block from a chain db.
        """
        header = block.header
        running = header.copy(gas_used=0, bloom=0, **self._zeroed_header_fields())
        self._block = with_header(block, running)
        context = self.create_execution_context(header, self.previous_hashes, self.chain_context)
        self._state = self.get_state_class()(self.chaindb.db, context, header.state_root)
        db: StoreAccountDB = self.state._account_db
        return db

    def _zeroed_header_fields(self) -> dict[str, int]:
        return {"blob_gas_used": 0}


class StoreState:
    """State mixin: our account database, and the transaction checks py-evm leaves out.

    * The sender must afford ``gas * max_fee_per_gas + blob_gas *
      max_fee_per_blob_gas + value``; py-evm's Cancun check leaves out the value.
    * The priority fee may not exceed the max fee (EIP-1559).
    * The sender must be an EOA (EIP-3607): no code, or only an EIP-7702
      delegation designator.
    * A blob transaction cannot create a contract (EIP-4844: ``to`` is required).
    * The gas limit must cover the intrinsic gas including EIP-3860's initcode
      words (py-evm charges those later, during execution) and, from Prague,
      the EIP-7623 calldata floor.
    * EIP-7610: an address with storage cannot be created into
      (:meth:`has_code_or_nonce`).
    """

    account_db_class = StoreAccountDB

    @property
    def logger(self) -> ExtendedDebugLogger:
        """py-evm's logger of this state class, looked up once per class.

        py-evm's own property asks ``eth_utils`` for it on every read, a few times
        per transaction (its debug messages are formatted even when nothing logs
        them), and that lookup swaps the logging module's logger class under its
        lock each time: about 3% of a Prague block's execution.
        """
        return _state_logger(type(self))

    def minimum_gas(self, transaction: SignedTransactionAPI) -> int:
        required = transaction.intrinsic_gas
        if transaction.to == CREATE_CONTRACT_ADDRESS:
            required += INITCODE_WORD_COST * ceil32(len(transaction.data)) // 32
        return required

    def validate_transaction(self: Any, transaction: SignedTransactionAPI) -> None:
        super().validate_transaction(transaction)  # type: ignore[misc]
        required = self.minimum_gas(transaction)
        if transaction.gas < required:
            raise ValidationError(f"gas limit {transaction.gas} is below the intrinsic gas {required}")
        if transaction.type_id == BLOB_TX_TYPE and transaction.to == CREATE_CONTRACT_ADDRESS:
            raise ValidationError("a blob transaction cannot create a contract")
        if transaction.max_priority_fee_per_gas > transaction.max_fee_per_gas:
            raise ValidationError("max priority fee per gas exceeds max fee per gas")
        sender_code = self.get_code(transaction.sender)
        if sender_code and not code_is_delegation_designation(sender_code):
            raise ValidationError("sender is not an EOA: it has code (EIP-3607)")
        max_cost = transaction.gas * transaction.max_fee_per_gas + transaction.value
        if transaction.type_id == BLOB_TX_TYPE:
            max_cost += get_total_blob_gas(transaction) * transaction.max_fee_per_blob_gas
        balance = self.get_balance(transaction.sender)
        if balance < max_cost:
            raise ValidationError(f"sender balance {balance} is below the transaction's max cost {max_cost}")

    def has_code_or_nonce(self: Any, address: bytes) -> bool:
        """Whether a creation into ``address`` collides: code, a nonce, or storage (EIP-7610).

        py-evm asks this of a creation transaction and of CREATE/CREATE2 and
        checks code and nonce only. EIP-7610 applies to every fork since
        Frontier; the storage check records no read in a block access list.
        """
        return super().has_code_or_nonce(address) or self._account_db.account_has_storage(address)  # type: ignore[misc]


@functools.cache
def _state_logger(state_class: type) -> ExtendedDebugLogger:
    """The logger py-evm's ``State.logger`` gives an instance of ``state_class`` (the same name)."""
    return get_extended_debug_logger(f"eth.vm.state.{state_class.__name__}")


class OriginIsDepthZero:
    """Computation mixin: the transaction's own message is the one at depth 0.

    py-evm takes any message whose sender is the transaction's origin for the
    origin message. With EIP-7702 a delegated origin also sends nested
    messages, and py-evm then charges the EIP-3860 initcode cost a second time
    for a CREATE they make and forgets the contracts created so far in the
    transaction (which EIP-6780 self-destructs depend on).
    """

    @property
    def is_origin_computation(self: Any) -> bool:
        return self.msg.depth == 0


# The stack methods py-evm's computation proxies (``computation.stack_<name>`` is ``_stack.<name>``).
_STACK_PROXIES = (
    "pop_ints", "pop_bytes", "pop_any", "pop1_int", "pop1_bytes", "pop1_any", "push_int", "push_bytes"
)


class EagerStackProxies:
    """Computation mixin: the stack's methods bound once, when the computation is made.

    py-evm proxies the stack's push and pop methods (what nearly every opcode
    calls) through the ``cached_property`` package, whose first access on each
    computation asks ``inspect`` whether the method is a coroutine function:
    about 10 us, for each of the eight proxies a message uses. Bound here as
    instance attributes, which take precedence over that (non-data)
    descriptor: the same bound methods of the computation's stack.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stack = self._stack  # type: ignore[attr-defined]
        for name in _STACK_PROXIES:
            setattr(self, f"stack_{name}", getattr(stack, name))


class StoreComputation(SharedJumpAnalysis, EagerStackProxies, OriginIsDepthZero):
    """What every balrex fork's computation adds to py-evm's: put before py-evm's class of the fork."""


def _executed_bal(recorder: BalRecorder | None, given: BlockAccessList | None) -> BlockAccessList | None:
    """The BAL execution recorded: ``given`` itself when the two are the same.

    Then nothing is built, and the store does not encode the BAL again: the
    given one keeps the RLP it was decoded from or hashed as (``bal.rlp_codec``).
    """
    if recorder is None:
        return None
    if given is not None and recorder.matches(given):
        return given
    return recorder.build()
