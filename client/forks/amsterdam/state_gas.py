"""EIP-8037 state-creation gas: the cost per state byte and the gas meter with a reservoir.

The cost per state byte (cpsb) follows from the executing block's own gas
limit. State gas is charged from the frame's *reservoir* first and then from
its regular gas (``gas_remaining``); ``state_used`` is the frame's signed net
state gas (credits subtract from it and go back to the reservoir).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.exceptions import OutOfGas
from eth.vm.gas_meter import GasMeter, allow_negative_refund_strategy

TX_GAS_LIMIT_CAP = 2**24  # EIP-7825: regular gas a transaction may use
CPSB_OFFSET = 9578
STATE_BYTES_NEW_ACCOUNT = 112
STATE_BYTES_STORAGE_SET = 32
STATE_BYTES_AUTH_BASE = 23
# An authorization is charged as a new account plus its base (EIP-7702 + EIP-8037).
STATE_BYTES_AUTHORIZATION = STATE_BYTES_NEW_ACCOUNT + STATE_BYTES_AUTH_BASE


@functools.lru_cache(maxsize=64)
def cost_per_state_byte(gas_limit: int) -> int:
    """cpsb for a block with this gas limit (quantized to the top 5 significant bits).

    Kept per gas limit: the state, each message and each state-gas charge ask
    for it (about 870 times a bench-chain block), and a chain's blocks share a
    handful of gas limits.
    """
    numerator = gas_limit * 2_628_000
    denominator = 2 * 100 * 2**30
    raw = -(-numerator // denominator)
    shifted = raw + CPSB_OFFSET
    shift = max(shifted.bit_length() - 5, 0)
    return max(((shifted >> shift) << shift) - CPSB_OFFSET, 1)


class StateGasMeter(GasMeter):
    """py-evm's gas meter plus the state-gas reservoir and the signed ``state_used``."""

    def __init__(self, start_gas: int, reservoir: int = 0) -> None:
        super().__init__(start_gas, allow_negative_refund_strategy)
        self.reservoir = reservoir
        self.state_used = 0
        # State gas credited back in this frame (and its successful children):
        # rolled back from the reservoir when the frame fails.
        self.credits = 0
        # Credits rolled back by failed frames below this one: gas consumed
        # that is neither regular nor net state gas (kept out of the block's R).
        self.rolled_back = 0

    def consume_state_gas(self, amount: int, reason: str) -> None:
        """Charge ``amount`` of state gas: reservoir first, then regular gas; else out of gas."""
        if self.reservoir >= amount:
            self.reservoir -= amount
        elif self.reservoir + self.gas_remaining >= amount:
            self.gas_remaining -= amount - self.reservoir
            self.reservoir = 0
        else:
            raise OutOfGas(
                f"Out of gas: state gas {amount} - reservoir {self.reservoir} "
                f"- remaining {self.gas_remaining} - Reason: {reason}"
            )
        self.state_used += amount

    def credit_state_gas(self, amount: int) -> None:
        """State gas given back: straight to the reservoir."""
        self.reservoir += amount
        self.state_used -= amount
        self.credits += amount


# -- intrinsic gas (EIP-7976/7981 floor and access lists, EIP-8037 split) ------

TX_BASE_GAS = 21_000
CALLDATA_ZERO_GAS = 4
CALLDATA_NONZERO_GAS = 16
ACCESS_LIST_ADDRESS_GAS = 2400
ACCESS_LIST_KEY_GAS = 1900
ACCESS_LIST_BYTE_GAS = 64  # EIP-7981
FLOOR_BYTE_GAS = 64  # EIP-7976: per calldata or access-list byte, zero or not
CREATE_TX_GAS = 9000
INITCODE_WORD_GAS = 2
AUTHORIZATION_GAS = 7500


def _optional_list(transaction: Any, name: str) -> Any:
    """A list field older transaction types lack (py-evm raises NotImplementedError for them)."""
    try:
        return getattr(transaction, name, ()) or ()
    except NotImplementedError:
        return ()


@dataclass(frozen=True)
class Intrinsic:
    regular: int
    state: int
    floor: int


# Where a transaction keeps its intrinsic gas once computed, as py-evm's cached properties keep
# theirs in the instance's ``__dict__``: ``(cpsb, Intrinsic)``.
_INTRINSIC_CACHE = "_balrex_intrinsic_gas"


def intrinsic_gas(transaction: Any, cpsb: int) -> Intrinsic:
    """A transaction's intrinsic regular and state gas and its EIP-7976 floor.

    Kept on the transaction for the block's cpsb: its validation (twice), the
    executor and a later part each ask, and a transaction's fields never change.
    """
    cached = transaction.__dict__.get(_INTRINSIC_CACHE)
    if cached is not None and cached[0] == cpsb:
        return cached[1]  # type: ignore[no-any-return]
    intrinsic = _intrinsic_gas(transaction, cpsb)
    transaction.__dict__[_INTRINSIC_CACHE] = (cpsb, intrinsic)
    return intrinsic


def _intrinsic_gas(transaction: Any, cpsb: int) -> Intrinsic:
    data = transaction.data
    zeros = data.count(0)
    regular = TX_BASE_GAS + CALLDATA_ZERO_GAS * zeros + CALLDATA_NONZERO_GAS * (len(data) - zeros)
    access_list = _optional_list(transaction, "access_list")
    addresses = len(access_list)
    keys = sum(len(slots) for _, slots in access_list)
    access_list_bytes = 20 * addresses + 32 * keys
    regular += (
        ACCESS_LIST_ADDRESS_GAS * addresses
        + ACCESS_LIST_KEY_GAS * keys
        + ACCESS_LIST_BYTE_GAS * access_list_bytes
    )
    state = 0
    if transaction.to == CREATE_CONTRACT_ADDRESS:
        regular += CREATE_TX_GAS + INITCODE_WORD_GAS * ((len(data) + 31) // 32)
        state += STATE_BYTES_NEW_ACCOUNT * cpsb
    authorizations = len(_optional_list(transaction, "authorization_list"))
    regular += AUTHORIZATION_GAS * authorizations
    state += STATE_BYTES_AUTHORIZATION * cpsb * authorizations
    floor = TX_BASE_GAS + FLOOR_BYTE_GAS * (len(data) + access_list_bytes)
    return Intrinsic(regular, state, floor)
