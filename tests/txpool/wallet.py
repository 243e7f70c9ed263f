"""Signed transactions from the dev accounts (``client.dev_genesis.dev_keys``), by py-evm's builders."""

from __future__ import annotations

from typing import Any

from eth_keys import keys

from client.blob_sidecar import make_sidecar, network_form
from client.chain_config import Fork
from client.dev_genesis import CHAIN_ID, dev_keys
from client.forks import FORK_VMS
from client.kzg import kzg_to_versioned_hash

GWEI = 10**9
BUILDER: Any = FORK_VMS[Fork.AMSTERDAM].get_transaction_builder()
KEYS = [keys.PrivateKey(key) for key in dev_keys()]
ADDRESSES = [key.public_key.to_canonical_address() for key in KEYS]
RECIPIENT = b"\x11" * 20


def dynamic(
    account: int,
    nonce: int,
    *,
    tip: int = GWEI,
    fee_cap: int | None = None,
    gas: int = 21_000,
    to: bytes = RECIPIENT,
    value: int = 1,
    data: bytes = b"",
    chain_id: int = CHAIN_ID,
) -> Any:
    """An EIP-1559 transaction signed by dev account ``account`` (fee cap: the tip plus 10 gwei)."""
    unsigned = BUILDER.new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id,
        nonce=nonce,
        max_priority_fee_per_gas=tip,
        max_fee_per_gas=tip + 10 * GWEI if fee_cap is None else fee_cap,
        gas=gas,
        to=to,
        value=value,
        data=data,
        access_list=[],
    )
    return unsigned.as_signed_transaction(KEYS[account])


def legacy(account: int, nonce: int, *, gas_price: int = 2 * GWEI, chain_id: int | None = CHAIN_ID) -> Any:
    """An EIP-155 legacy transaction (``chain_id=None``: unprotected)."""
    unsigned = BUILDER.create_unsigned_transaction(
        nonce=nonce, gas_price=gas_price, gas=21_000, to=RECIPIENT, value=1, data=b""
    )
    return unsigned.as_signed_transaction(KEYS[account], chain_id=chain_id)


def access_list_tx(account: int, nonce: int, *, gas_price: int = 2 * GWEI) -> Any:
    """An EIP-2930 transaction with one address and one slot in its access list."""
    unsigned = BUILDER.new_unsigned_access_list_transaction(
        chain_id=CHAIN_ID,
        nonce=nonce,
        gas_price=gas_price,
        gas=30_000,
        to=RECIPIENT,
        value=1,
        data=b"",
        access_list=[(RECIPIENT, [1])],
    )
    return unsigned.as_signed_transaction(KEYS[account])


def raw_hex(transaction: Any) -> str:
    return "0x" + transaction.encode().hex()


def blob_transaction(account: int, nonce: int, blobs: list[bytes], *, cell_proofs: bool) -> tuple[Any, str]:
    """A blob transaction carrying ``blobs`` and its network form (hex) with the sidecar.

    ``cell_proofs``: the Osaka-on wrapper (EIP-7594 cell proofs), else one blob proof per blob.
    """
    sidecar = make_sidecar(blobs, cell_proofs)
    unsigned = BUILDER.new_unsigned_blob_transaction(
        chain_id=CHAIN_ID,
        nonce=nonce,
        max_priority_fee_per_gas=GWEI,
        max_fee_per_gas=11 * GWEI,
        gas=21_000,
        to=RECIPIENT,
        value=0,
        data=b"",
        access_list=[],
        max_fee_per_blob_gas=GWEI,
        blob_versioned_hashes=[kzg_to_versioned_hash(commitment) for commitment in sidecar.commitments],
    )
    signed = unsigned.as_signed_transaction(KEYS[account])
    return signed, "0x" + network_form(signed.encode(), sidecar).hex()
