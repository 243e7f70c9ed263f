"""CALL, CALLCODE, DELEGATECALL, STATICCALL under EIP-8037.

py-evm's ``BaseCall.__call__`` is replaced to fix the order of charges:

1. memory, the target's access cost and the 9000 value cost, all before the
   target is read (EIP-7928: an unaffordable call leaves it out of the BAL);
2. a CALL with value to an account that is not alive: ``112 * cpsb`` state gas
   (instead of 25000 regular); then, for an EIP-7702 delegation, the delegate's
   access cost, charged before the delegate's code is read;
3. the child's gas: 63/64 of what regular gas is left;
4. balance and depth checks: on failure the set-aside gas (and stipend) comes
   back and 0 is pushed, but the state charge of step 2 stays;
5. the child runs with the frame's whole reservoir
   (:meth:`AmsterdamComputation.apply_child_computation`).
"""

from __future__ import annotations

from typing import Any

from eth import constants
from eth._utils.address import force_bytes_to_address
from eth._utils.state import code_is_delegation_designation
from eth.abc import ComputationAPI
from eth.vm.forks.prague.logic import (
    CallCodeEIP7702,
    CallEIP7702,
    DelegateCallEIP7702,
    StaticCallEIP7702,
)
from eth.vm.logic.call import max_child_gas_eip150

from .state_gas import STATE_BYTES_NEW_ACCOUNT


class StateGasCall:
    """Mixin over py-evm's EIP-7702 call classes: EIP-8037 charges and order."""

    def value_gas(self, value: int) -> int:
        """Regular gas for moving value (CALL and CALLCODE)."""
        return constants.GAS_CALLVALUE if value else 0

    def new_account_state_bytes(self, computation: ComputationAPI, to: bytes, value: int) -> int:
        return 0

    def stipend(self, value: int) -> int:
        return constants.GAS_CALLSTIPEND if value else 0

    def __call__(self: Any, computation: ComputationAPI) -> None:
        computation.consume_gas(self.gas_cost, reason=self.mnemonic)
        (
            gas,
            value,
            to,
            sender,
            code_address,
            memory_input_start_position,
            memory_input_size,
            memory_output_start_position,
            memory_output_size,
            should_transfer_value,
            is_static,
        ) = self.get_call_params(computation)
        computation.extend_memory(memory_input_start_position, memory_input_size)
        computation.extend_memory(memory_output_start_position, memory_output_size)
        call_data = computation.memory_read_bytes(memory_input_start_position, memory_input_size)

        # EIP-7928: every charge that guards a state read is taken before the read,
        # so an out-of-gas call never records the account it could not afford.
        code_source = code_address if code_address else to
        self.consume_account_load_gas(computation, code_source)
        computation.consume_gas(self.value_gas(value), reason=self.mnemonic)
        code = computation.state.get_code(code_source)
        state_bytes = self.new_account_state_bytes(computation, to, value)
        if state_bytes:
            computation.consume_state_gas(state_bytes, reason=f"{self.mnemonic} new account")  # type: ignore[attr-defined]
        delegation_address = None
        if code_is_delegation_designation(code):
            delegation_address = force_bytes_to_address(code[3:])
            self.consume_account_load_gas(computation, delegation_address)
            code = computation.state.get_code(delegation_address)

        child_gas = min(gas, max_child_gas_eip150(computation.get_gas_remaining()))
        computation.consume_gas(child_gas, reason=self.mnemonic)
        child_msg_gas = child_gas + self.stipend(value)

        sender_balance = computation.state.get_balance(computation.msg.storage_address)
        insufficient_funds = should_transfer_value and sender_balance < value
        stack_too_deep = computation.msg.depth + 1 > constants.STACK_DEPTH_LIMIT
        if insufficient_funds or stack_too_deep:
            computation.return_data = b""
            computation.return_gas(child_msg_gas)
            computation.stack_push_int(0)
            return

        child_msg_kwargs = {
            "gas": child_msg_gas,
            "value": value,
            "to": to,
            "data": call_data,
            "code": code,
            "code_address": delegation_address or code_address,
            "should_transfer_value": should_transfer_value,
            "is_static": is_static,
            "is_delegation": delegation_address is not None,
        }
        if sender is not None:
            child_msg_kwargs["sender"] = sender
        child_msg = computation.prepare_child_message(**child_msg_kwargs)
        child_computation = computation.apply_child_computation(child_msg)
        computation.stack_push_int(0 if child_computation.is_error else 1)
        if not child_computation.should_erase_return_data:
            size = min(memory_output_size, len(child_computation.output))
            computation.memory_write(memory_output_start_position, size, child_computation.output[:size])
        if child_computation.should_return_gas:
            computation.return_gas(child_computation.get_gas_remaining())


class CallEIP8037(StateGasCall, CallEIP7702):
    def new_account_state_bytes(self, computation: ComputationAPI, to: bytes, value: int) -> int:
        if not value:
            return 0
        state = computation.state
        alive = state.account_exists(to) and not state.account_is_empty(to)
        return 0 if alive else STATE_BYTES_NEW_ACCOUNT


class CallCodeEIP8037(StateGasCall, CallCodeEIP7702):
    pass


class DelegateCallEIP8037(StateGasCall, DelegateCallEIP7702):
    def value_gas(self, value: int) -> int:
        return 0

    def stipend(self, value: int) -> int:
        return 0


class StaticCallEIP8037(StateGasCall, StaticCallEIP7702):
    pass
