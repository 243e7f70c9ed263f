"""Amsterdam's opcode table: Osaka's plus SLOTNUM, DUPN/SWAPN/EXCHANGE and the EIP-8037 versions.

* EIP-7843 SLOTNUM (0x4b, gas 2): the block's slot number.
* EIP-8024 DUPN (0xe6), SWAPN (0xe7), EXCHANGE (0xe8), gas 3 each: one
  immediate byte (0 past the end of the code), the pc moves by 2; JUMPDEST
  analysis is unchanged.
* EIP-7928: EXTCODECOPY charges memory, copy and access gas before it reads
  the code (py-evm reads first), so an out-of-gas copy stays out of the BAL.
* EIP-8037: CALL family, CREATE/CREATE2, SSTORE and SELFDESTRUCT with state gas.
"""

from __future__ import annotations

import copy

from eth import constants
from eth._utils.address import force_bytes_to_address
from eth.abc import ComputationAPI
from eth.exceptions import InsufficientStack, InvalidInstruction
from eth.vm import mnemonics
from eth.vm import opcode_values as ops
from eth.vm.forks.berlin.logic import _consume_gas_for_account_load
from eth.vm.forks.byzantium.opcodes import ensure_no_static
from eth.vm.forks.tangerine_whistle.constants import GAS_SELFDESTRUCT_EIP150
from eth.vm.logic.context import consume_extcodecopy_word_cost
from eth.vm.opcode import as_opcode
from eth_utils.toolz import merge

from ..osaka import OSAKA_OPCODES
from .calls import CallCodeEIP8037, CallEIP8037, DelegateCallEIP8037, StaticCallEIP8037
from .creates import Create2EIP8037, CreateEIP8037
from .storage import selfdestruct_eip8037, sstore_eip8037

SLOTNUM = 0x4B
DUPN = 0xE6
SWAPN = 0xE7
EXCHANGE = 0xE8


def slotnum(computation: ComputationAPI) -> None:
    computation.stack_push_int(computation.state.execution_context.slot_number)  # type: ignore[attr-defined]


def decode_single(x: int) -> int | None:
    """DUPN/SWAPN immediate -> n (17..235), or None for the invalid range 91..127."""
    if 91 <= x <= 127:
        return None
    return (x + 145) % 256


def decode_pair(x: int) -> tuple[int, int] | None:
    """EXCHANGE immediate -> (n, m), or None for the invalid range 82..127."""
    if 82 <= x <= 127:
        return None
    q, r = divmod(x ^ 143, 16)
    if q < r:
        return q + 1, r + 1
    return r + 1, 29 - q


def _immediate(computation: ComputationAPI) -> int:
    byte = computation.code.read(1)
    return byte[0] if byte else 0


def dupn(computation: ComputationAPI) -> None:
    n = decode_single(_immediate(computation))
    if n is None:
        raise InvalidInstruction("DUPN with an invalid immediate")
    computation.stack_dup(n)


def swapn(computation: ComputationAPI) -> None:
    n = decode_single(_immediate(computation))
    if n is None:
        raise InvalidInstruction("SWAPN with an invalid immediate")
    computation.stack_swap(n)


def exchange(computation: ComputationAPI) -> None:
    pair = decode_pair(_immediate(computation))
    if pair is None:
        raise InvalidInstruction("EXCHANGE with an invalid immediate")
    n, m = pair
    values = computation._stack.values  # type: ignore[attr-defined]
    if len(values) < m + 1:
        raise InsufficientStack(f"EXCHANGE {n} {m} needs {m + 1} stack items")
    values[-n - 1], values[-m - 1] = values[-m - 1], values[-n - 1]


def extcodecopy_eip7928(computation: ComputationAPI) -> None:
    """EXTCODECOPY with every charge taken before the account's code is read."""
    address = force_bytes_to_address(computation.stack_pop1_bytes())
    mem_start_position, code_start_position, size = computation.stack_pop_ints(3)
    computation.extend_memory(mem_start_position, size)
    consume_extcodecopy_word_cost(computation, size)
    _consume_gas_for_account_load(computation, address, mnemonics.EXTCODECOPY)
    code = computation.state.get_code(address)
    code_bytes = code[code_start_position : code_start_position + size]
    computation.memory_write(mem_start_position, size, code_bytes.ljust(size, b"\x00"))


AMSTERDAM_OPCODES = merge(
    copy.deepcopy(OSAKA_OPCODES),
    {
        SLOTNUM: as_opcode(logic_fn=slotnum, mnemonic="SLOTNUM", gas_cost=constants.GAS_BASE),
        DUPN: as_opcode(logic_fn=dupn, mnemonic="DUPN", gas_cost=constants.GAS_VERYLOW),
        SWAPN: as_opcode(logic_fn=swapn, mnemonic="SWAPN", gas_cost=constants.GAS_VERYLOW),
        EXCHANGE: as_opcode(logic_fn=exchange, mnemonic="EXCHANGE", gas_cost=constants.GAS_VERYLOW),
        ops.EXTCODECOPY: as_opcode(
            logic_fn=extcodecopy_eip7928, mnemonic=mnemonics.EXTCODECOPY, gas_cost=constants.GAS_NULL
        ),
        ops.SSTORE: as_opcode(
            logic_fn=ensure_no_static(sstore_eip8037), mnemonic=mnemonics.SSTORE, gas_cost=0
        ),
        ops.SELFDESTRUCT: as_opcode(
            logic_fn=ensure_no_static(selfdestruct_eip8037),
            mnemonic=mnemonics.SELFDESTRUCT,
            gas_cost=GAS_SELFDESTRUCT_EIP150,
        ),
        ops.CREATE: CreateEIP8037.configure(
            __name__="opcode:CREATE", mnemonic=mnemonics.CREATE, gas_cost=0
        )(),
        ops.CREATE2: Create2EIP8037.configure(
            __name__="opcode:CREATE2", mnemonic=mnemonics.CREATE2, gas_cost=0
        )(),
        ops.CALL: CallEIP8037.configure(
            __name__="opcode:CALL", mnemonic=mnemonics.CALL, gas_cost=constants.GAS_NULL
        )(),
        ops.CALLCODE: CallCodeEIP8037.configure(
            __name__="opcode:CALLCODE", mnemonic=mnemonics.CALLCODE, gas_cost=constants.GAS_NULL
        )(),
        ops.DELEGATECALL: DelegateCallEIP8037.configure(
            __name__="opcode:DELEGATECALL", mnemonic=mnemonics.DELEGATECALL, gas_cost=constants.GAS_NULL
        )(),
        ops.STATICCALL: StaticCallEIP8037.configure(
            __name__="opcode:STATICCALL", mnemonic=mnemonics.STATICCALL, gas_cost=constants.GAS_NULL
        )(),
    },
)
