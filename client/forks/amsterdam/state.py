"""Amsterdam's state: transaction checks with EIP-8037/7976/7954 intrinsic rules, no gas cap."""

from __future__ import annotations

from typing import Any

from eth.abc import SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.vm.forks.prague.constants import PER_AUTH_BASE_COST, PER_EMPTY_ACCOUNT_BASE_COST
from eth_utils import ValidationError

from ..osaka import OsakaStoreState
from .computation import MAX_INITCODE_SIZE, AmsterdamComputation
from .executor import AmsterdamTransactionExecutor
from .state_gas import TX_GAS_LIMIT_CAP, cost_per_state_byte, intrinsic_gas


class AmsterdamStoreState(OsakaStoreState):
    computation_class = AmsterdamComputation
    transaction_executor_class = AmsterdamTransactionExecutor

    @property
    def cpsb(self) -> int:
        return cost_per_state_byte(self.execution_context.gas_limit)

    def validate_gas_limit_cap(self, transaction: SignedTransactionAPI) -> None:
        """EIP-8037 lifts EIP-7825's cap on the gas limit (only regular gas stays capped)."""

    def minimum_gas(self, transaction: SignedTransactionAPI) -> int:
        intrinsic = intrinsic_gas(transaction, self.cpsb)
        return intrinsic.regular + intrinsic.state

    def validate_transaction(self: Any, transaction: SignedTransactionAPI) -> None:
        super().validate_transaction(transaction)
        intrinsic = intrinsic_gas(transaction, self.cpsb)
        if transaction.gas < intrinsic.floor:
            raise ValidationError(
                f"gas limit {transaction.gas} is below the floor {intrinsic.floor} (EIP-7976)"
            )
        if max(intrinsic.regular, intrinsic.floor) > TX_GAS_LIMIT_CAP:
            raise ValidationError(
                f"intrinsic regular gas {max(intrinsic.regular, intrinsic.floor)} exceeds {TX_GAS_LIMIT_CAP}"
            )
        if transaction.to == CREATE_CONTRACT_ADDRESS and len(transaction.data) > MAX_INITCODE_SIZE:
            raise ValidationError(f"initcode of {len(transaction.data)} bytes exceeds {MAX_INITCODE_SIZE}")

    def process_set_code_authorizations(self, transaction: SignedTransactionAPI) -> int:
        """Apply the authorizations; return how many authorities already existed (EIP-8037 credit)."""
        refund = super().process_set_code_authorizations(transaction)
        return refund // (PER_EMPTY_ACCOUNT_BASE_COST - PER_AUTH_BASE_COST)
