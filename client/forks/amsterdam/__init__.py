"""Amsterdam on our store: Osaka plus the Amsterdam EIPs that change execution.

* EIP-7843 SLOTNUM, with the 23-field header (``headers``, ``opcodes``);
* EIP-7708 ETH transfer and burn logs (``transfer_logs``);
* EIP-7778 block gas without refunds and EIP-8037 state-creation gas with its
  two-dimensional block accounting (``state_gas``, ``executor``, this module);
* EIP-7954 larger code and initcode limits; EIP-7976/7981 floor and access
  list costs; EIP-8024 DUPN/SWAPN/EXCHANGE;
* no EIP-7825 cap on a transaction's gas limit (only its regular gas is capped).

Blob parameters come from the chain config (``BalrexOsakaVM.for_chain``). The
block access list (EIP-7928) is neither recorded nor checked here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eth.abc import (
    BlockHeaderAPI,
    ChainContextAPI,
    ComputationAPI,
    ExecutionContextAPI,
    ReceiptAPI,
    SignedTransactionAPI,
)
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth_bloom import BloomFilter
from eth_utils import ValidationError

from ..osaka import BalrexOsakaVM
from .headers import AmsterdamBlock
from .state import AmsterdamStoreState
from .state_gas import TX_GAS_LIMIT_CAP, cost_per_state_byte, intrinsic_gas


class BalrexAmsterdamVM(BalrexOsakaVM):
    fork = "amsterdam"
    block_class = AmsterdamBlock
    _state_class = AmsterdamStoreState
    records_block_access_list = True  # EIP-7928

    @classmethod
    def create_execution_context(
        cls,
        header: BlockHeaderAPI,
        prev_hashes: Iterable[bytes],
        chain_context: ChainContextAPI,
    ) -> ExecutionContextAPI:
        context = super().create_execution_context(header, prev_hashes, chain_context)
        context.slot_number = getattr(header, "slot_number", 0)  # type: ignore[attr-defined]
        return context

    def validate_transaction_against_header(
        self, base_header: BlockHeaderAPI, transaction: SignedTransactionAPI
    ) -> None:
        """Replaced by the two-dimensional check in :meth:`apply_all_transactions`."""

    def apply_all_transactions(
        self, transactions: Sequence[SignedTransactionAPI], base_header: BlockHeaderAPI
    ) -> tuple[BlockHeaderAPI, tuple[ReceiptAPI, ...], tuple[ComputationAPI, ...]]:
        """Run the transactions with EIP-7778/8037 block accounting.

        Three counters: the receipts' cumulative gas (what senders pay, after
        refunds and floor), the block's regular gas ``R`` (before refunds) and
        its state gas ``S``; the header's gas used is ``max(R, S)``.
        """
        gas_limit = base_header.gas_limit
        cpsb = cost_per_state_byte(gas_limit)
        regular_used = state_used = cumulative = 0
        header = base_header
        receipts: list[ReceiptAPI] = []
        computations: list[ComputationAPI] = []
        vm_header = self.get_header()
        for index, transaction in enumerate(transactions):
            intrinsic = intrinsic_gas(transaction, cpsb)
            if min(TX_GAS_LIMIT_CAP, transaction.gas - intrinsic.state) > gas_limit - regular_used:
                raise ValidationError(
                    f"transaction gas {transaction.gas} exceeds the block's regular gas left "
                    f"{gas_limit - regular_used}"
                )
            if transaction.gas - intrinsic.regular > gas_limit - state_used:
                raise ValidationError(
                    f"transaction gas {transaction.gas} exceeds the block's state gas left "
                    f"{gas_limit - state_used}"
                )
            self.state.lock_changes()
            computation: Any = self.state.apply_transaction(transaction)
            cumulative += computation.tx_gas_used
            regular_used += computation.block_regular
            state_used += computation.block_state
            status = (
                EIP658_TRANSACTION_STATUS_CODE_FAILURE
                if computation.is_error
                else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
            )
            receipt = transaction.make_receipt(status, cumulative, computation.get_log_entries())
            header = header.copy(bloom=int(BloomFilter(header.bloom) | receipt.bloom), gas_used=cumulative)
            header = self.increment_blob_gas_used(header, transaction)
            receipts.append(receipt)
            computations.append(computation)
            # As py-evm's loop: the hook closes the transaction's BAL index when recording.
            self.transaction_applied_hook(index, transactions, vm_header, header, computation, receipt)
        block_gas = max(regular_used, state_used)
        if block_gas > gas_limit:
            raise ValidationError(f"block gas {block_gas} exceeds the gas limit {gas_limit}")
        return header.copy(gas_used=block_gas), tuple(receipts), tuple(computations)
