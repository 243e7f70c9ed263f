"""SSTORE and SELFDESTRUCT under EIP-8037 (and EIP-7708's SELFDESTRUCT logs).

SSTORE, in order: the EIP-2200 stipend check (regular gas only), the regular
gas (cold 2100 + 2900 for a change to a clean slot, else 100), the state gas
(``32 * cpsb`` for 0 -> nonzero on a clean slot), refunds (EIP-3529) and the
state credit for a slot restored to zero, then the write. Every written
``(address, slot)`` of the transaction is remembered for the end-of-transaction
SELFDESTRUCT refund.
"""

from __future__ import annotations

from eth._utils.address import force_bytes_to_address
from eth.abc import ComputationAPI
from eth.exceptions import Halt, OutOfGas
from eth.vm.forks.berlin.constants import COLD_ACCOUNT_ACCESS_COST, COLD_SLOAD_COST
from eth.vm.forks.berlin.logic import _mark_address_warm, _mark_storage_warm

from .state_gas import STATE_BYTES_NEW_ACCOUNT, STATE_BYTES_STORAGE_SET
from .transfer_logs import log_burn, log_transfer

SSTORE_STIPEND = 2300
SSTORE_WARM = 100
SSTORE_UPDATE = 2900  # 5000 - COLD_SLOAD_COST
SSTORE_CLEAR_REFUND = 4800  # EIP-3529


def written_slots(computation: ComputationAPI) -> set[tuple[bytes, int]]:
    """The transaction's written storage slots (kept on the state, reset per transaction)."""
    state = computation.state
    slots = getattr(state, "written_slots", None)
    if slots is None:
        slots = set()
        state.written_slots = slots  # type: ignore[attr-defined]
    return slots


def sstore_eip8037(computation: ComputationAPI) -> None:
    slot, value = computation.stack_pop_ints(2)
    if computation.get_gas_remaining() <= SSTORE_STIPEND:
        raise OutOfGas("SSTORE with no more than the call stipend left (EIP-2200)")
    address = computation.msg.storage_address
    state = computation.state
    current = state.get_storage(address=address, slot=slot)
    original = state.get_storage(address=address, slot=slot, from_journal=False)

    regular = COLD_SLOAD_COST if _mark_storage_warm(computation, slot) else 0
    state_bytes = 0
    refund = 0
    restored_to_zero = False
    if current == value:
        regular += SSTORE_WARM
    elif original == current:
        regular += SSTORE_UPDATE
        if original == 0:
            state_bytes = STATE_BYTES_STORAGE_SET
        elif value == 0:
            refund += SSTORE_CLEAR_REFUND
    else:
        regular += SSTORE_WARM
        if original != 0:
            if current == 0:
                refund -= SSTORE_CLEAR_REFUND
            if value == 0:
                refund += SSTORE_CLEAR_REFUND
        if original == value:
            refund += SSTORE_UPDATE - SSTORE_WARM
            restored_to_zero = original == 0

    computation.consume_gas(regular, reason="SSTORE")
    if state_bytes:
        computation.consume_state_gas(state_bytes, reason="SSTORE new slot")  # type: ignore[attr-defined]
    if refund:
        computation.refund_gas(refund)
    if restored_to_zero:
        computation.credit_state_gas(STATE_BYTES_STORAGE_SET)  # type: ignore[attr-defined]
    state.set_storage(address=address, slot=slot, value=value)
    written_slots(computation).add((address, slot))


def selfdestruct_eip8037(computation: ComputationAPI) -> None:
    """EIP-6780 SELFDESTRUCT with EIP-8037's new-account state gas and EIP-7708's logs."""
    beneficiary = force_bytes_to_address(computation.stack_pop1_bytes())
    if _mark_address_warm(computation, beneficiary):
        computation.consume_gas(COLD_ACCOUNT_ACCESS_COST, reason="SELFDESTRUCT cold beneficiary")
    state = computation.state
    contract = computation.msg.storage_address
    balance = state.get_balance(contract)
    beneficiary_alive = state.account_exists(beneficiary) and not state.account_is_empty(beneficiary)
    if balance and not beneficiary_alive:
        computation.consume_state_gas(STATE_BYTES_NEW_ACCOUNT, reason="SELFDESTRUCT new account")  # type: ignore[attr-defined]

    created_here = contract in computation.contracts_created
    if beneficiary != contract:
        log_transfer(computation, contract, beneficiary, balance)
    elif created_here:
        log_burn(computation, contract, balance)

    if created_here:
        state.set_balance(beneficiary, state.get_balance(beneficiary) + balance)
        state.set_balance(contract, 0)
        computation.register_account_for_deletion(beneficiary)
    else:
        state.delta_balance(beneficiary, balance)
        state.delta_balance(contract, -balance)
        computation.beneficiaries.append(beneficiary)
    raise Halt("SELFDESTRUCT")
