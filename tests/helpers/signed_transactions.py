"""A legacy and a dynamic-fee transaction signed by a real key, for tests that need genuine signatures."""

from __future__ import annotations

from typing import Any

from eth_keys import keys

from client.chain_config import Fork
from client.forks import FORK_VMS

BUILDER: Any = FORK_VMS[Fork.AMSTERDAM].get_transaction_builder()
KEY = keys.PrivateKey(b"\x42" * 32)


def signed_legacy_and_dynamic(*, chain_id: int | None = 1, nonce: int = 0) -> tuple[Any, Any]:
    """Both signed by :data:`KEY` and decoded from their encodings, as a block's transactions are.

    The legacy one is EIP-155 for ``chain_id`` (pre-EIP-155 when None); the
    dynamic-fee one is for ``chain_id or 1`` and carries calldata and an access list.
    """
    legacy = BUILDER.create_unsigned_transaction(
        nonce=nonce, gas_price=1, gas=21_000, to=b"\x11" * 20, value=1, data=b""
    ).as_signed_transaction(KEY, chain_id=chain_id)
    dynamic = BUILDER.new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id or 1,
        nonce=nonce,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=2,
        gas=21_000,
        to=b"\x11" * 20,
        value=1,
        data=b"\x00\x01",
        access_list=[(b"\x22" * 20, [1, 2])],
    ).as_signed_transaction(KEY)
    return BUILDER.decode(legacy.encode()), BUILDER.decode(dynamic.encode())
