"""Amsterdam's transaction executor: EIP-8037's gas split, end of transaction, EIP-7708 burns.

* ``build_evm_message``: the execution gas ``tx.gas - intrinsic`` is split
  into regular gas (at most ``2**24 - intrinsic regular``) and the state-gas
  reservoir (the rest); each authorization whose authority already existed
  credits ``112 * cpsb`` to the reservoir.
* ``finalize_computation``: the top-level failure rule (the frame's net state
  gas returns to the reservoir), the SELFDESTRUCT state refund, EIP-3529
  refunds, the EIP-7976 floor, payment, EIP-7708 Burn logs and deletion; the
  numbers the block needs (EIP-7778/8037) are left on the computation as
  ``tx_gas_used`` (receipt), ``block_regular`` and ``block_state``.
"""

from __future__ import annotations

from typing import Any, cast

from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI, MessageAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.exceptions import ContractCreationCollision
from eth.vm.forks.cancun import get_total_blob_gas
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth.vm.forks.london.constants import EIP3529_MAX_REFUND_QUOTIENT
from eth.vm.forks.prague.constants import SET_CODE_TRANSACTION_TYPE
from eth.vm.forks.prague.state import PragueTransactionExecutor
from eth_utils import ValidationError

from .computation import StateMessage
from .state_gas import (
    STATE_BYTES_NEW_ACCOUNT,
    STATE_BYTES_STORAGE_SET,
    TX_GAS_LIMIT_CAP,
    Intrinsic,
    cost_per_state_byte,
    intrinsic_gas,
)
from .transfer_logs import log_burn


class AmsterdamTransactionExecutor(PragueTransactionExecutor):
    intrinsic: Intrinsic
    authority_credit: int = 0

    def validate_transaction(self, transaction: SignedTransactionAPI) -> None:
        try:
            transaction.validate()
        except ValidationError as exc:
            # A legacy transaction checks py-evm's intrinsic gas (32000 for a
            # creation): Amsterdam's intrinsic gas is checked by the state.
            if str(exc) != "Insufficient gas":
                raise
            transaction.check_signature_validity()
        self.vm_state.validate_transaction(transaction)

    @property
    def cpsb(self) -> int:
        return cost_per_state_byte(self.vm_state.execution_context.gas_limit)

    def calc_message_refund(self, transaction: SignedTransactionAPI) -> int:
        return 0

    def build_evm_message(self, transaction: SignedTransactionAPI) -> MessageAPI:
        state: Any = self.vm_state
        gas_fee = transaction.gas * state.get_gas_price(transaction)
        if transaction.type_id == BLOB_TX_TYPE:
            gas_fee += get_total_blob_gas(transaction) * state.blob_base_fee
        state.delta_balance(transaction.sender, -gas_fee)
        state.increment_nonce(transaction.sender)
        state.written_slots = set()

        cpsb = self.cpsb
        self.intrinsic = intrinsic_gas(transaction, cpsb)
        existing_authorities = 0
        if transaction.type_id == SET_CODE_TRANSACTION_TYPE:
            existing_authorities = state.process_set_code_authorizations(transaction)
        self.authority_credit = existing_authorities * STATE_BYTES_NEW_ACCOUNT * cpsb

        execution_gas = transaction.gas - self.intrinsic.regular - self.intrinsic.state
        gas_left = min(TX_GAS_LIMIT_CAP - self.intrinsic.regular, execution_gas)
        reservoir = execution_gas - gas_left + self.authority_credit

        if transaction.to == CREATE_CONTRACT_ADDRESS:
            contract_address = generate_contract_address(
                transaction.sender, state.get_nonce(transaction.sender) - 1
            )
            data, code, is_delegation = b"", transaction.data, False
        else:
            contract_address = None
            data = transaction.data
            code, delegation_address = self.get_code_at_address(transaction.to)
            is_delegation = delegation_address is not None
        return StateMessage(
            gas=gas_left,
            to=transaction.to,
            sender=transaction.sender,
            value=transaction.value,
            data=data,
            code=code,
            create_address=contract_address,
            is_delegation=is_delegation,
            reservoir=reservoir,
        )

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        state: Any = self.vm_state
        cpsb = self.cpsb
        comp: Any = computation
        gas_left = computation.get_gas_remaining()
        meter = comp.get_gas_meter()
        # The top-level failure rule: the frame's net state gas goes back to the
        # reservoir (its own credits are kept, unlike a failed child frame's).
        reservoir = meter.reservoir + (meter.state_used if computation.is_error else 0)
        state_used = comp.state_used_out
        rolled_back = meter.rolled_back

        deleted = sorted(computation.get_accounts_for_deletion())
        if deleted:
            written = getattr(state, "written_slots", set())
            refund_bytes = 0
            for account in deleted:
                slots = sum(
                    1 for address, slot in written if address == account and state.get_storage(account, slot)
                )
                refund_bytes += (
                    STATE_BYTES_NEW_ACCOUNT + len(state.get_code(account)) + STATE_BYTES_STORAGE_SET * slots
                )
            selfdestruct_refund = max(min(refund_bytes * cpsb, state_used), 0)
            reservoir += selfdestruct_refund
            state_used -= selfdestruct_refund

        used_before_refund = transaction.gas - gas_left - reservoir
        refund = min(computation.get_gas_refund(), used_before_refund // EIP3529_MAX_REFUND_QUOTIENT)
        tx_gas_used = max(used_before_refund - refund, self.intrinsic.floor)

        gas_price = state.get_transaction_context(transaction).gas_price
        state.delta_balance(transaction.sender, (transaction.gas - tx_gas_used) * gas_price)
        state.delta_balance(state.coinbase, tx_gas_used * state.get_tip(transaction))

        for account in deleted:
            log_burn(computation, account, state.get_balance(account))
        for account in deleted:
            state.delete_account(account)

        execution_gas = transaction.gas - self.intrinsic.regular - self.intrinsic.state
        execution_regular = (
            execution_gas + self.authority_credit - gas_left - reservoir - state_used - rolled_back
        )
        if computation.is_error and isinstance(computation.error, ContractCreationCollision):
            # The creation transaction's address is taken: no code ran, so the
            # burned gas is no regular gas of the block's (only the receipt pays it).
            execution_regular = 0
        comp.tx_gas_used = tx_gas_used
        comp.block_regular = max(self.intrinsic.regular + execution_regular, self.intrinsic.floor)
        comp.block_state = self.intrinsic.state + state_used
        return cast(ComputationAPI, computation)
