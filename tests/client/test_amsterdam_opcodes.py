"""client/forks/amsterdam/opcodes.py and transfer_logs.py: EIP-8024 immediates, SLOTNUM, EIP-7708 logs."""

from __future__ import annotations

import pytest

from client.forks.amsterdam.opcodes import (
    AMSTERDAM_OPCODES,
    DUPN,
    EXCHANGE,
    SLOTNUM,
    SWAPN,
    decode_pair,
    decode_single,
)
from client.forks.amsterdam.transfer_logs import (
    BURN_TOPIC,
    TRANSFER_LOG_ADDRESS,
    TRANSFER_TOPIC,
    burn_log,
    transfer_log,
)


@pytest.mark.parametrize(("x", "n"), [(0x80, 17), (0x00, 145), (90, 235), (128, 17), (255, 144)])
def test_dupn_swapn_immediates(x: int, n: int) -> None:
    assert decode_single(x) == n


@pytest.mark.parametrize("x", [91, 100, 127])
def test_dupn_swapn_invalid_immediates(x: int) -> None:
    assert decode_single(x) is None


@pytest.mark.parametrize(
    ("x", "pair"),
    [
        (0x8E, (1, 2)),
        (0x00, (9, 16)),
        (0x8F, (1, 29)),
        (0x2F, (1, 19)),
        (0x9D, (2, 3)),
        (0x50, (14, 16)),
        (0x51, (14, 15)),
    ],
)
def test_exchange_immediates(x: int, pair: tuple[int, int]) -> None:
    assert decode_pair(x) == pair


@pytest.mark.parametrize("x", [82, 100, 127])
def test_exchange_invalid_immediates(x: int) -> None:
    assert decode_pair(x) is None


def test_every_valid_exchange_pair_is_ordered() -> None:
    pairs = [pair for x in range(256) if (pair := decode_pair(x)) is not None]
    # Every immediate outside the invalid range 82..127 decodes, each to a pair of its own.
    assert len(pairs) == len(set(pairs)) == 256 - (127 - 82 + 1)
    for n, m in pairs:
        assert 1 <= n < m <= 29


def test_new_opcodes_and_gas() -> None:
    assert AMSTERDAM_OPCODES[SLOTNUM].gas_cost == 2
    for opcode in (DUPN, SWAPN, EXCHANGE):
        assert AMSTERDAM_OPCODES[opcode].gas_cost == 3


def test_transfer_and_burn_logs() -> None:
    assert TRANSFER_LOG_ADDRESS == bytes.fromhex("ff" * 19 + "fe")
    assert hex(TRANSFER_TOPIC).startswith("0xddf252ad") and hex(TRANSFER_TOPIC).endswith("b3ef")
    assert hex(BURN_TOPIC).startswith("0xcc16f5db") and hex(BURN_TOPIC).endswith("397ca5")
    sender, recipient = b"\x01" * 20, b"\x02" * 20
    address, topics, data = transfer_log(sender, recipient, 5)
    assert address == TRANSFER_LOG_ADDRESS
    assert topics == (TRANSFER_TOPIC, int.from_bytes(sender, "big"), int.from_bytes(recipient, "big"))
    assert data == (5).to_bytes(32, "big")
    assert burn_log(sender, 7)[1:] == ((BURN_TOPIC, int.from_bytes(sender, "big")), (7).to_bytes(32, "big"))
