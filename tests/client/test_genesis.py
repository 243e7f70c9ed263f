"""client/genesis.py: allocations in fixture and geth styles become the right state."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from client.genesis import alloc_to_deltas, genesis_state
from storage import EMPTY_ROOT, MemoryStore

ADDRESS = "0x" + "ab" * 20


def test_hex_decimal_and_int_quantities_are_the_same_account() -> None:
    styles = [
        {"balance": "0x0a", "nonce": "0x01", "storage": {"0x01": "0x02"}},
        {"balance": "10", "nonce": "1", "storage": {"1": "2"}},
        {"balance": 10, "nonce": 1, "storage": {"0x1": 2}},
    ]
    roots = {genesis_state(MemoryStore(), {ADDRESS: s}).state_root for s in styles}
    assert len(roots) == 1
    assert roots != {EMPTY_ROOT}


def test_zero_storage_values_are_not_stored_and_code_is_kept() -> None:
    (delta,) = alloc_to_deltas({ADDRESS: {"balance": "0x0", "code": "0x6000", "storage": {"0x01": "0x00"}}})
    assert dict(delta.storage) == {}
    writes = genesis_state(MemoryStore(), {ADDRESS: {"code": "0x6000"}})
    assert writes.code == {keccak(b"\x60\x00"): b"\x60\x00"}


def test_an_empty_allocation_is_the_empty_root() -> None:
    assert genesis_state(MemoryStore(), {}).state_root == EMPTY_ROOT


@pytest.mark.parametrize(
    "alloc",
    [{"0x1234": {"balance": "0x1"}}, {ADDRESS: {"balance": "ten"}}, {ADDRESS: {"code": "6000"}}],
)
def test_malformed_allocations_are_rejected(alloc: dict) -> None:
    with pytest.raises(ValueError):
        genesis_state(MemoryStore(), alloc)
