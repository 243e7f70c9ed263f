"""Amsterdam's computation: state-gas reservoir per frame, EIP-7708 transfer logs, code deposit.

* Each frame's gas meter is a :class:`StateGasMeter`. A child frame takes the
  parent's whole reservoir (:meth:`apply_child_computation`) and hands back
  what is left; on failure its net state gas goes back to the reservoir.
* EIP-7708: the value a message carries is logged at the start of the frame
  that receives it (:meth:`apply_computation`), before any other log of it.
* EIP-7954/8037 code deposit (:meth:`apply_create_message`): at most 32 KiB,
  no leading 0xEF, then 6 regular gas per word and ``len * cpsb`` state gas.
"""

from __future__ import annotations

from typing import Any, cast

from eth._utils.numeric import ceil32
from eth.abc import ComputationAPI, MessageAPI, StateAPI, TransactionContextAPI
from eth.exceptions import Halt, OutOfGas, VMError
from eth.vm.computation import NO_RESULT
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.message import Message

from ..osaka import OsakaStoreComputation
from .opcodes import AMSTERDAM_OPCODES
from .state_gas import StateGasMeter, cost_per_state_byte
from .transfer_logs import log_transfer

MAX_CODE_SIZE = 32_768  # EIP-7954
MAX_INITCODE_SIZE = 65_536  # EIP-7954
CODE_DEPOSIT_WORD_GAS = 6  # EIP-8037: hashing the deployed code
EOF_PREFIX = 0xEF  # EIP-3541


class StateMessage(Message):
    """A message that carries the state-gas reservoir its frame starts with."""

    __slots__ = ["reservoir"]

    def __init__(self, *args: Any, reservoir: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reservoir = reservoir


class AmsterdamComputation(OsakaStoreComputation):
    opcodes = AMSTERDAM_OPCODES

    def _configure_gas_meter(self) -> StateGasMeter:
        return StateGasMeter(self.msg.gas, getattr(self.msg, "reservoir", 0))

    # -- state gas ------------------------------------------------------------

    @property
    def cpsb(self) -> int:
        return cost_per_state_byte(self.state.execution_context.gas_limit)

    def consume_state_gas(self, state_bytes: int, reason: str) -> None:
        cast(StateGasMeter, self._gas_meter).consume_state_gas(state_bytes * self.cpsb, reason)

    def credit_state_gas(self, state_bytes: int) -> None:
        cast(StateGasMeter, self._gas_meter).credit_state_gas(state_bytes * self.cpsb)

    @property
    def reservoir_out(self) -> int:
        """The reservoir this frame hands back.

        A failed frame's net state gas returns to the reservoir, and the
        credits it received (SSTORE restorations, failed creates, from its
        successful children too) are rolled back with it.
        """
        meter = cast(StateGasMeter, self._gas_meter)
        if self.is_error:
            return meter.reservoir + meter.state_used - meter.credits
        return meter.reservoir

    @property
    def rolled_back_out(self) -> int:
        """Credits rolled back in this frame and below (consumed gas, not regular, not state)."""
        meter = cast(StateGasMeter, self._gas_meter)
        return meter.rolled_back + (meter.credits if self.is_error else 0)

    @property
    def state_used_out(self) -> int:
        """The net state gas this frame adds to its parent's (none when it failed)."""
        return 0 if self.is_error else cast(StateGasMeter, self._gas_meter).state_used

    def prepare_child_message(
        self, gas: int, to: bytes, value: int, data: Any, code: bytes, **kwargs: Any
    ) -> MessageAPI:
        kwargs.setdefault("sender", self.msg.storage_address)
        return StateMessage(
            gas=gas, to=to, value=value, data=data, code=code, depth=self.msg.depth + 1, **kwargs
        )

    def apply_child_computation(self, child_msg: MessageAPI) -> ComputationAPI:
        meter = cast(StateGasMeter, self._gas_meter)
        if isinstance(child_msg, StateMessage):
            child_msg.reservoir = meter.reservoir
            meter.reservoir = 0
        child = self.generate_child_computation(child_msg)
        meter.reservoir += child.reservoir_out  # type: ignore[attr-defined]
        meter.state_used += child.state_used_out  # type: ignore[attr-defined]
        meter.rolled_back += child.rolled_back_out  # type: ignore[attr-defined]
        if child.is_success:
            meter.credits += child._gas_meter.credits  # type: ignore[attr-defined]
        self.add_child_computation(child)
        return child

    @classmethod
    def consume_initcode_gas_cost(cls, computation: ComputationAPI) -> None:
        """A creation transaction's initcode words are intrinsic gas from Amsterdam."""

    # -- running a frame --------------------------------------------------------

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            if message.should_transfer_value:
                log_transfer(computation, message.sender, message.storage_address, message.value)

            precompile = computation.precompiles.get(message.code_address, NO_RESULT)
            if precompile is not NO_RESULT:
                if not message.is_delegation:
                    precompile(computation)
                return computation

            opcode_lookup = computation.opcodes
            for opcode in computation.code:
                try:
                    opcode_fn = opcode_lookup[opcode]
                except KeyError:
                    opcode_fn = InvalidOpcode(opcode)
                try:
                    opcode_fn(computation=computation)
                except Halt:
                    break
        return computation

    @classmethod
    def apply_create_message(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        snapshot = state.snapshot()
        state.increment_nonce(message.storage_address)
        computation = cls.apply_message(
            state, message, transaction_context, parent_computation=parent_computation
        )
        if computation.is_error:
            state.revert(snapshot)
            return computation
        code = computation.output
        try:
            cls.validate_contract_code(code)
            computation.consume_gas(CODE_DEPOSIT_WORD_GAS * (ceil32(len(code)) // 32), "code deposit")
            computation.consume_state_gas(len(code), "code deposit")  # type: ignore[attr-defined]
        except VMError as err:
            computation.error = err
            # An exceptional halt: the frame's remaining regular gas is gone.
            computation._gas_meter.gas_remaining = 0
            state.revert(snapshot)
            return computation
        if code:
            state.set_code(message.storage_address, code)
        state.commit(snapshot)
        return computation

    @classmethod
    def validate_contract_code(cls, contract_code: bytes) -> None:
        if len(contract_code) > MAX_CODE_SIZE:
            raise OutOfGas(f"contract code of {len(contract_code)} bytes exceeds {MAX_CODE_SIZE}")
        if contract_code[:1] == bytes([EOF_PREFIX]):
            raise OutOfGas("contract code starts with 0xEF (EIP-3541)")
