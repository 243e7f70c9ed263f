"""CREATE and CREATE2 from Shanghai on: the EIP-3860 initcode limit comes first.

py-evm checks the initcode size only when the child frame starts
(``validate_create_message``), after the opcode has already returned 0 for a
creator that cannot pay the value, is too deep or has a full nonce. The spec
(``generic_create``) checks the size before those: an oversized initcode is
an exceptional halt of the creating frame whatever the creator's balance.
"""

from __future__ import annotations

from typing import Any

from eth import constants
from eth.abc import ComputationAPI, OpcodeAPI
from eth.exceptions import OutOfGas
from eth.vm import mnemonics
from eth.vm import opcode_values as ops
from eth.vm.forks.shanghai.constants import MAX_INITCODE_SIZE
from eth.vm.forks.shanghai.logic import Create2EIP3860, CreateEIP3860
from eth.vm.logic.system import CreateOpcodeStackData


class InitcodeLimitFirst:
    """Mixin over py-evm's Shanghai CREATE/CREATE2: halt on oversized initcode before any other check.

    The check runs as the operands are read. Every exceptional halt consumes
    the frame's gas, so checking before the gas and memory charges (rather than
    right after them, as the spec does) changes nothing else.
    """

    def get_stack_data(self: Any, computation: ComputationAPI) -> CreateOpcodeStackData:
        stack_data: CreateOpcodeStackData = super().get_stack_data(computation)  # type: ignore[misc]
        if stack_data.memory_length > MAX_INITCODE_SIZE:
            size = stack_data.memory_length
            raise OutOfGas(f"initcode of {size} bytes exceeds {MAX_INITCODE_SIZE} (EIP-3860)")
        return stack_data


class CreateInitcodeLimitFirst(InitcodeLimitFirst, CreateEIP3860):
    pass


class Create2InitcodeLimitFirst(InitcodeLimitFirst, Create2EIP3860):
    pass


# Merged over py-evm's opcode table by each fork's computation (Cancun to Osaka).
CREATE_OPCODES: dict[int, OpcodeAPI] = {
    ops.CREATE: CreateInitcodeLimitFirst.configure(
        __name__="opcode:CREATE", mnemonic=mnemonics.CREATE, gas_cost=constants.GAS_CREATE
    )(),
    ops.CREATE2: Create2InitcodeLimitFirst.configure(
        __name__="opcode:CREATE2", mnemonic=mnemonics.CREATE2, gas_cost=constants.GAS_CREATE
    )(),
}
