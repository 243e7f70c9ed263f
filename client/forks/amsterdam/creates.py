"""CREATE and CREATE2 under EIP-7954 and EIP-8037.

Order: static check; regular gas (9000, 2 per initcode word, 6 per word
hashed by CREATE2, memory); initcode above 64 KiB halts the frame; ``112 *
cpsb`` state gas; the silent failures (balance, depth, nonce) credit it back;
63/64 of the regular gas left goes to the child; the nonce is bumped and the
address computed; a collision burns the child's gas and credits the state gas
back; a failing child credits it back too.
"""

from __future__ import annotations

from typing import Any

from eth import constants
from eth._utils.numeric import ceil32
from eth.abc import ComputationAPI, MessageAPI
from eth.exceptions import OutOfGas, WriteProtection
from eth.vm.forks.berlin.logic import Create2EIP2929, CreateEIP2929
from eth.vm.logic.call import max_child_gas_eip150
from eth.vm.logic.system import CreateOpcodeStackData

from .state_gas import STATE_BYTES_NEW_ACCOUNT

CREATE_GAS = 9000
INITCODE_WORD_GAS = 2
KECCAK_WORD_GAS = 6
MAX_INITCODE_SIZE = 65_536


class StateGasCreate:
    """Mixin over py-evm's Berlin CREATE/CREATE2: EIP-8037 charges and order."""

    hashes_initcode = False

    def get_gas_cost(self, data: CreateOpcodeStackData) -> int:
        words = ceil32(data.memory_length) // 32
        per_word = INITCODE_WORD_GAS + (KECCAK_WORD_GAS if self.hashes_initcode else 0)
        return CREATE_GAS + per_word * words

    def __call__(self: Any, computation: ComputationAPI) -> None:
        if computation.msg.is_static:
            raise WriteProtection("Cannot modify state while inside of a STATICCALL context")
        stack_data = self.get_stack_data(computation)
        computation.consume_gas(self.get_gas_cost(stack_data), reason=self.mnemonic)
        computation.extend_memory(stack_data.memory_start, stack_data.memory_length)
        if stack_data.memory_length > MAX_INITCODE_SIZE:
            raise OutOfGas(f"initcode of {stack_data.memory_length} bytes exceeds {MAX_INITCODE_SIZE}")
        computation.consume_state_gas(STATE_BYTES_NEW_ACCOUNT, reason=self.mnemonic)

        storage_address = computation.msg.storage_address
        insufficient_funds = computation.state.get_balance(storage_address) < stack_data.endowment
        stack_too_deep = computation.msg.depth + 1 > constants.STACK_DEPTH_LIMIT
        nonce_too_high = computation.state.get_nonce(storage_address) + 1 > constants.UINT_64_MAX
        if insufficient_funds or stack_too_deep or nonce_too_high:
            computation.credit_state_gas(STATE_BYTES_NEW_ACCOUNT)
            computation.stack_push_int(0)
            computation.return_data = b""
            return

        call_data = computation.memory_read_bytes(stack_data.memory_start, stack_data.memory_length)
        create_msg_gas = max_child_gas_eip150(computation.get_gas_remaining())
        computation.consume_gas(create_msg_gas, reason=self.mnemonic)
        contract_address = self.generate_contract_address(stack_data, call_data, computation)
        if computation.state.has_code_or_nonce(contract_address):
            computation.credit_state_gas(STATE_BYTES_NEW_ACCOUNT)
            computation.stack_push_int(0)
            computation.return_data = b""
            return
        child_msg = computation.prepare_child_message(
            gas=create_msg_gas,
            to=constants.CREATE_CONTRACT_ADDRESS,
            value=stack_data.endowment,
            data=b"",
            code=call_data,
            create_address=contract_address,
        )
        self.apply_create_message(computation, child_msg)

    def apply_create_message(self, computation: ComputationAPI, child_msg: MessageAPI) -> None:
        # As py-evm: CREATE2 runs on emptied storage, restored if the child fails.
        snapshot = computation.state.snapshot() if self.hashes_initcode else None
        if snapshot is not None:
            computation.state.delete_storage(child_msg.storage_address)
        child = computation.apply_child_computation(child_msg)
        if child.is_error:
            if snapshot is not None:
                computation.state.revert(snapshot)
            computation.credit_state_gas(STATE_BYTES_NEW_ACCOUNT)  # type: ignore[attr-defined]
            computation.stack_push_int(0)
        else:
            if snapshot is not None:
                computation.state.commit(snapshot)
            computation.stack_push_bytes(child_msg.storage_address)
        computation.return_gas(child.get_gas_remaining())


class CreateEIP8037(StateGasCreate, CreateEIP2929):
    pass


class Create2EIP8037(StateGasCreate, Create2EIP2929):
    hashes_initcode = True
