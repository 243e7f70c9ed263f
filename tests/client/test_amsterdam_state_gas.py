"""client/forks/amsterdam/state_gas.py: cost per state byte, intrinsic gas, the reservoir meter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.exceptions import OutOfGas

from client.forks.amsterdam.state_gas import StateGasMeter, cost_per_state_byte, intrinsic_gas

TO = b"\x11" * 20


@pytest.mark.parametrize(
    ("gas_limit", "cpsb"),
    [
        (1_000_000, 1),
        (5_000_000, 1),
        (10_000_000, 1),
        (16_800_000, 150),
        (36_000_000, 150),
        (60_000_000, 662),
        (100_000_000, 1174),
        (120_000_000, 1174),
        (200_000_000, 2198),
        (300_000_000, 3222),
        (500_000_000, 5782),
        (1_000_000_000, 11926),
    ],
)
def test_cost_per_state_byte(gas_limit: int, cpsb: int) -> None:
    assert cost_per_state_byte(gas_limit) == cpsb


def _tx(data: bytes = b"", to: bytes = TO, access_list=(), authorizations=()) -> SimpleNamespace:
    return SimpleNamespace(data=data, to=to, access_list=access_list, authorization_list=authorizations)


def test_access_list_costs_per_item_and_byte() -> None:
    intrinsic = intrinsic_gas(_tx(access_list=[(TO, [0])]), cpsb=150)
    assert intrinsic.regular == 21_000 + 2400 + 1900 + 52 * 64 == 28_628
    assert intrinsic.state == 0
    assert intrinsic.floor == 21_000 + 64 * 52


def test_floor_counts_every_byte_alike() -> None:
    assert intrinsic_gas(_tx(data=b"\x01"), cpsb=150).floor == 21_064
    assert intrinsic_gas(_tx(data=b"\x00"), cpsb=150).floor == 21_064
    assert intrinsic_gas(_tx(data=b"\x00\x01"), cpsb=150).regular == 21_000 + 4 + 16


def test_creation_splits_regular_and_state() -> None:
    initcode = b"\x00" * 65_536
    intrinsic = intrinsic_gas(_tx(data=initcode, to=CREATE_CONTRACT_ADDRESS), cpsb=1174)
    assert intrinsic.regular == 21_000 + 4 * 65_536 + 9000 + 2 * 2048
    assert intrinsic.state == 112 * 1174
    assert intrinsic.floor == 21_000 + 64 * 65_536


def test_authorizations_are_regular_plus_state_and_not_in_the_floor() -> None:
    intrinsic = intrinsic_gas(_tx(authorizations=[object(), object()]), cpsb=150)
    assert intrinsic.regular == 21_000 + 2 * 7500
    assert intrinsic.state == 2 * 135 * 150
    assert intrinsic.floor == 21_000


def test_legacy_transaction_without_lists() -> None:
    class Legacy:
        data = b""
        to = TO

        @property
        def access_list(self):  # py-evm's legacy transactions raise here
            raise NotImplementedError

        authorization_list = access_list

    assert intrinsic_gas(Legacy(), cpsb=150).regular == 21_000


def test_state_gas_comes_from_the_reservoir_first() -> None:
    meter = StateGasMeter(1000, reservoir=500)
    meter.consume_state_gas(300, "x")
    assert (meter.reservoir, meter.gas_remaining, meter.state_used) == (200, 1000, 300)
    meter.consume_state_gas(500, "spill")
    assert (meter.reservoir, meter.gas_remaining, meter.state_used) == (0, 700, 800)


def test_state_gas_out_of_gas_changes_nothing() -> None:
    meter = StateGasMeter(100, reservoir=50)
    with pytest.raises(OutOfGas):
        meter.consume_state_gas(151, "too much")
    assert (meter.reservoir, meter.gas_remaining, meter.state_used) == (50, 100, 0)


def test_credit_goes_to_the_reservoir() -> None:
    meter = StateGasMeter(100)
    meter.consume_state_gas(60, "set")
    meter.credit_state_gas(60)
    assert (meter.reservoir, meter.gas_remaining, meter.state_used, meter.credits) == (60, 40, 0, 60)


def test_refunds_may_go_negative() -> None:
    meter = StateGasMeter(100)
    meter.refund_gas(-4800)
    assert meter.gas_refunded == -4800


def test_intrinsic_gas_is_kept_per_block_cpsb() -> None:
    creation = _tx(data=b"\x01" * 40, to=CREATE_CONTRACT_ADDRESS)
    first = intrinsic_gas(creation, cpsb=150)
    assert intrinsic_gas(creation, cpsb=150) is first  # computed once
    other_block = intrinsic_gas(creation, cpsb=1174)
    assert other_block.state == 112 * 1174 and other_block.regular == first.regular
    assert intrinsic_gas(creation, cpsb=150) == first
