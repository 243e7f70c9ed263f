"""EIP-7928 ordering: CALL/CALLCODE and EXTCODECOPY charge the gas that guards a state read first.

A fake computation records every state read; an out-of-gas opcode must not
have read (and so must not put in the block access list) the account it could
not afford.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from eth.exceptions import OutOfGas

from client.forks.amsterdam.opcodes import AMSTERDAM_OPCODES

CALL, CALLCODE, EXTCODECOPY = 0xF1, 0xF2, 0x3C
CALLER = b"\xca" * 20
TARGET = b"\x7a" * 20
DELEGATE = b"\xde" * 20
COLD, WARM, VALUE_COST = 2600, 100, 9000
CHILD_GAS = 1000


class FakeState:
    def __init__(self, codes: dict[bytes, bytes]) -> None:
        self.codes = codes
        self.warm: set[bytes] = {CALLER}
        self.reads: list[bytes] = []

    def is_address_warm(self, address: bytes) -> bool:
        return address in self.warm

    def mark_address_warm(self, address: bytes) -> None:
        self.warm.add(address)

    def get_code(self, address: bytes) -> bytes:
        self.reads.append(address)
        return self.codes.get(address, b"")

    def account_exists(self, address: bytes) -> bool:
        self.reads.append(address)
        return True

    def account_is_empty(self, address: bytes) -> bool:
        self.reads.append(address)
        return False

    def get_balance(self, address: bytes) -> int:
        self.reads.append(address)
        return 10**18


class FakeComputation:
    def __init__(self, gas: int, stack_top_first: list[int], state: FakeState) -> None:
        self.gas = gas
        self.stack = list(reversed(stack_top_first))
        self.state = state
        self.msg = SimpleNamespace(depth=0, storage_address=CALLER, is_static=False)
        self.logger = SimpleNamespace(show_debug2=False)
        self.memory = bytearray()
        self.pushed: list[int] = []
        self.child_msg: dict[str, Any] | None = None

    def consume_gas(self, amount: int, reason: str) -> None:
        if amount > self.gas:
            raise OutOfGas(reason)
        self.gas -= amount

    def consume_state_gas(self, state_bytes: int, reason: str) -> None:
        raise AssertionError("the target is alive: no state gas expected")

    def return_gas(self, amount: int) -> None:
        self.gas += amount

    def get_gas_remaining(self) -> int:
        return self.gas

    def stack_pop1_int(self) -> int:
        return self.stack.pop()

    def stack_pop1_bytes(self) -> bytes:
        return self.stack.pop().to_bytes(32, "big")

    def stack_pop_ints(self, n: int) -> tuple[int, ...]:
        return tuple(self.stack.pop() for _ in range(n))

    def stack_push_int(self, value: int) -> None:
        self.pushed.append(value)

    def extend_memory(self, start: int, size: int) -> None:
        if size and start + size > len(self.memory):
            self.memory.extend(b"\x00" * (start + size - len(self.memory)))

    def memory_read_bytes(self, start: int, size: int) -> bytes:
        return bytes(self.memory[start : start + size])

    def memory_write(self, start: int, size: int, value: bytes) -> None:
        self.memory[start : start + size] = value

    def prepare_child_message(self, **kwargs: Any) -> dict[str, Any]:
        self.child_msg = kwargs
        return kwargs

    def apply_child_computation(self, child_msg: Any) -> Any:
        return SimpleNamespace(is_error=False, should_erase_return_data=True, should_return_gas=False)


def _call(opcode: int, gas: int, codes: dict[bytes, bytes], value: int = 1) -> FakeComputation:
    state = FakeState(codes)
    stack = [CHILD_GAS, int.from_bytes(TARGET, "big"), value, 0, 0, 0, 0]
    computation = FakeComputation(gas, stack, state)
    AMSTERDAM_OPCODES[opcode](computation)
    return computation


@pytest.mark.parametrize("opcode", [CALL, CALLCODE])
def test_call_with_value_oog_does_not_read_target(opcode: int) -> None:
    state = FakeState({TARGET: b"\x00"})
    stack = [CHILD_GAS, int.from_bytes(TARGET, "big"), 1, 0, 0, 0, 0]
    computation = FakeComputation(COLD + VALUE_COST - 1, stack, state)
    with pytest.raises(OutOfGas):
        AMSTERDAM_OPCODES[opcode](computation)
    assert TARGET not in state.reads


@pytest.mark.parametrize("opcode", [CALL, CALLCODE])
def test_call_with_value_enough_gas_reads_target(opcode: int) -> None:
    computation = _call(opcode, COLD + VALUE_COST + 64 * CHILD_GAS, {TARGET: b"\x00"})
    assert TARGET in computation.state.reads
    assert computation.pushed == [1]
    assert computation.child_msg is not None and computation.child_msg["code"] == b"\x00"
    # the charges themselves are unchanged: access + value + the child's gas
    assert computation.gas == 64 * CHILD_GAS - CHILD_GAS


@pytest.mark.parametrize("opcode", [CALL, CALLCODE])
def test_delegation_oog_reads_target_but_not_delegate(opcode: int) -> None:
    state = FakeState({TARGET: b"\xef\x01\x00" + DELEGATE, DELEGATE: b"\x00"})
    stack = [CHILD_GAS, int.from_bytes(TARGET, "big"), 1, 0, 0, 0, 0]
    computation = FakeComputation(COLD + VALUE_COST + COLD - 1, stack, state)
    with pytest.raises(OutOfGas):
        AMSTERDAM_OPCODES[opcode](computation)
    assert TARGET in state.reads
    assert DELEGATE not in state.reads


@pytest.mark.parametrize("opcode", [CALL, CALLCODE])
def test_delegation_enough_gas_runs_delegate_code(opcode: int) -> None:
    codes = {TARGET: b"\xef\x01\x00" + DELEGATE, DELEGATE: b"\x60\x00"}
    computation = _call(opcode, 2 * COLD + VALUE_COST + 64 * CHILD_GAS, codes)
    assert computation.state.reads.index(TARGET) < computation.state.reads.index(DELEGATE)
    msg = computation.child_msg
    assert msg is not None and msg["code"] == b"\x60\x00" and msg["is_delegation"]
    assert msg["code_address"] == DELEGATE


def _extcodecopy(gas: int, size: int) -> FakeComputation:
    state = FakeState({TARGET: b"\x60\x01\x60\x02"})
    computation = FakeComputation(gas, [int.from_bytes(TARGET, "big"), 0, 0, size], state)
    AMSTERDAM_OPCODES[EXTCODECOPY](computation)
    return computation


def test_extcodecopy_oog_does_not_read_code() -> None:
    state = FakeState({TARGET: b"\x60\x01"})
    computation = FakeComputation(COLD + 3 - 1, [int.from_bytes(TARGET, "big"), 0, 0, 32], state)
    with pytest.raises(OutOfGas):
        AMSTERDAM_OPCODES[EXTCODECOPY](computation)
    assert state.reads == []


def test_extcodecopy_copies_padded_code() -> None:
    computation = _extcodecopy(COLD + 3, 32)
    assert computation.gas == 0
    assert computation.state.reads == [TARGET]
    assert bytes(computation.memory) == b"\x60\x01\x60\x02".ljust(32, b"\x00")


def test_extcodecopy_warm_target_costs_warm_read() -> None:
    state = FakeState({TARGET: b"\x60\x01"})
    state.warm.add(TARGET)
    computation = FakeComputation(WARM + 6, [int.from_bytes(TARGET, "big"), 0, 1, 33], state)
    AMSTERDAM_OPCODES[EXTCODECOPY](computation)
    assert computation.gas == 0
    assert bytes(computation.memory) == b"\x01".ljust(33, b"\x00")
