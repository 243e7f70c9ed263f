"""Genesis state from an allocation (EF fixture ``pre`` or a geth-style ``alloc``).

A genesis allocation is just a set of account deltas applied to the empty
state, so it goes through the same merkleizer as every block.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bal.deltas import AccountDelta
from merkle import merkleize
from storage import EMPTY_ROOT, StateWrites, Store


def parse_quantity(value: Any) -> int:
    """A JSON number: 0x-hex string, decimal string, or int (geth genesis files use all three)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value, 10)
    raise ValueError(f"not a quantity: {value!r}")


def parse_hex_bytes(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"not 0x-prefixed hex: {value!r:.80}")
    return bytes.fromhex(value[2:])


def alloc_to_deltas(alloc: Mapping[str, Mapping[str, Any]]) -> list[AccountDelta]:
    deltas = []
    for address, account in alloc.items():
        raw_address = parse_hex_bytes(address)
        if len(raw_address) != 20:
            raise ValueError(f"genesis address {address} is not 20 bytes")
        storage = {
            parse_quantity(slot): parse_quantity(value)
            for slot, value in (account.get("storage") or {}).items()
        }
        deltas.append(
            AccountDelta(
                address=raw_address,
                balance=parse_quantity(account.get("balance", 0)),
                nonce=parse_quantity(account.get("nonce", 0)),
                code=parse_hex_bytes(account.get("code", "0x")),
                storage=MappingProxyType({k: v for k, v in storage.items() if v}),
            )
        )
    return deltas


def genesis_state(store: Store, alloc: Mapping[str, Mapping[str, Any]]) -> StateWrites:
    """The genesis state root and its writes (not yet committed)."""
    return merkleize(store, EMPTY_ROOT, alloc_to_deltas(alloc))
