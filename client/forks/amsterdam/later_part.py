"""A block's transactions executed in two parts, the later one elsewhere (EIP-7928 parallel execution).

The BAL gives the state after every ``blockAccessIndex``, so the block's later
transactions (from ``first`` on) can run in another process at the same time
as the earlier ones, starting from the state the BAL claims after index
``first`` (:func:`bal.synthesize_deltas` with ``through_index``). That start is
only a claim: the block is accepted only if the BAL recorded over both parts
equals the given one, which makes every post-value the earlier part produced
equal to the claim the later part started from (and so the later part's run
the true one). On any failure the pipeline executes the block again in one
part, so a rejection always names the rule the sequential execution breaks.

The block-level gas rules (EIP-7778/8037) need each transaction's gas used
before it, so :class:`BlockGas` admits a transaction from the later part only
once its outcome is back, in order: the same checks, the same counters, the
same receipts as executing in one part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth.vm.forks.cancun import get_total_blob_gas
from eth_utils import ValidationError

from bal.deltas import AccountDelta
from bal.recorder import BalRecorder
from pipeline.receipts import LogEntry, encode_receipt_fields

from ..receipts import BlockReceipts, logs_bloom
from .state_gas import TX_GAS_LIMIT_CAP, cost_per_state_byte, intrinsic_gas


@dataclass(frozen=True, slots=True)
class TransactionOutcome:
    """What one transaction's execution hands the block (plain values: it crosses a pipe)."""

    tx_gas_used: int  # the receipt's share: after refunds and the floor
    block_regular: int  # EIP-7778: before refunds
    block_state: int  # EIP-8037 state gas
    failed: bool
    logs: tuple[LogEntry, ...]
    bloom: int  # of the logs, computed where the transaction ran (``receipts``)

    def __reduce__(self) -> tuple[type[TransactionOutcome], tuple[object, ...]]:
        """Pickle as the constructor and its fields (half the load time of a slotted dataclass's
        default): the node loads a later part's outcomes while its own part executes."""
        return (
            TransactionOutcome,
            (self.tx_gas_used, self.block_regular, self.block_state, self.failed, self.logs, self.bloom),
        )

    @classmethod
    def of(cls, computation: Any) -> TransactionOutcome:
        logs = tuple(computation.get_log_entries())
        return cls(
            computation.tx_gas_used,
            computation.block_regular,
            computation.block_state,
            computation.is_error,
            logs,
            logs_bloom(logs),
        )


@dataclass(frozen=True)
class PartResult:
    """The later part's execution: its transactions' outcomes, its BAL units and its state."""

    outcomes: tuple[TransactionOutcome, ...]
    recorder: BalRecorder
    # What the part's transactions changed, as changes to the parent state. The state it started
    # from (the BAL's claim) is not repeated: the node's process produced that state itself, and
    # if it produced another one, the BAL it recorded differs from the given one.
    deltas: tuple[AccountDelta, ...]


class BlockGas:
    """EIP-7778/8037 block accounting over a block's transactions, in order.

    Three counters: the receipts' cumulative gas (what senders pay, after
    refunds and floor), the block's regular gas ``R`` (before refunds) and its
    state gas ``S``; the header's gas used is ``max(R, S)``. A transaction is
    admitted only if its gas fits what is left of both.
    """

    def __init__(self, base_header: BlockHeaderAPI) -> None:
        self.gas_limit = base_header.gas_limit
        self._cpsb = cost_per_state_byte(self.gas_limit)
        self.regular = self.state = self.cumulative = 0
        # The header is copied once, at the end (a py-evm header copy costs about 60 us).
        self._header = base_header
        self._bloom = base_header.bloom
        self._blob_gas = base_header.blob_gas_used
        # Each receipt goes straight to its encoding, no py-evm receipt or log object (``pipeline.receipts``).
        self._encoded_receipts: list[bytes] = []
        self._logs: list[LogEntry] = []

    def admit(self, transaction: SignedTransactionAPI) -> None:
        intrinsic = intrinsic_gas(transaction, self._cpsb)
        if min(TX_GAS_LIMIT_CAP, transaction.gas - intrinsic.state) > self.gas_limit - self.regular:
            raise ValidationError(
                f"transaction gas {transaction.gas} exceeds the block's regular gas left "
                f"{self.gas_limit - self.regular}"
            )
        if transaction.gas - intrinsic.regular > self.gas_limit - self.state:
            raise ValidationError(
                f"transaction gas {transaction.gas} exceeds the block's state gas left "
                f"{self.gas_limit - self.state}"
            )

    def add(self, transaction: SignedTransactionAPI, outcome: TransactionOutcome) -> None:
        self.cumulative += outcome.tx_gas_used
        self.regular += outcome.block_regular
        self.state += outcome.block_state
        status = (
            EIP658_TRANSACTION_STATUS_CODE_FAILURE
            if outcome.failed
            else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
        )
        self._encoded_receipts.append(
            encode_receipt_fields(
                getattr(transaction, "type_id", None), status, self.cumulative, outcome.bloom, outcome.logs
            )
        )
        self._logs.extend(outcome.logs)
        self._bloom |= outcome.bloom
        self._blob_gas += get_total_blob_gas(transaction)

    def add_all(
        self, transactions: Sequence[SignedTransactionAPI], outcomes: Sequence[TransactionOutcome]
    ) -> None:
        """Admit and add the outcomes of transactions that ran elsewhere, in block order."""
        if len(outcomes) != len(transactions):
            raise ValidationError(f"{len(outcomes)} outcomes came back for {len(transactions)} transactions")
        for transaction, outcome in zip(transactions, outcomes, strict=True):
            self.admit(transaction)
            self.add(transaction, outcome)

    def finish(self) -> tuple[BlockHeaderAPI, BlockReceipts]:
        block_gas = max(self.regular, self.state)
        if block_gas > self.gas_limit:
            raise ValidationError(f"block gas {block_gas} exceeds the gas limit {self.gas_limit}")
        header = self._header.copy(gas_used=block_gas, bloom=self._bloom, blob_gas_used=self._blob_gas)
        return header, BlockReceipts(tuple(self._encoded_receipts), tuple(self._logs))
