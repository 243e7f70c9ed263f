"""Transaction senders recovered in one batch, without py-evm's per-call overhead.

py-evm recovers a sender the first time ``transaction.sender`` is read: it
re-encodes the unsigned transaction through its RLP sedes, builds eth-keys
``Signature`` and ``PublicKey`` objects and only then calls libsecp256k1 (via
coincurve). Profiled on the bench chain that is 11-16% of the executor's
time, about two thirds of it Python overhead around the one native call.

:func:`recover_senders` fills the same cache (``sender`` is a
``cached_property``, stored in the instance's ``__dict__``) from the bytes the
block already holds: the unsigned message is the signed encoding without its
last three items (typed transactions), or the first six items plus the
EIP-155 chain id (legacy ones), hashed once and handed to coincurve directly.
Anything out of the ordinary (a ``v`` py-evm reads another way, ``r`` or ``s``
out of range, a failed recovery) is left alone, so py-evm computes that
transaction's sender, or raises its error, exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable

import rlp
from coincurve import PublicKey
from eth.abc import SignedTransactionAPI
from eth_hash.auto import keccak
from eth_keys.constants import SECPK1_N
from eth_utils import int_to_big_endian

from bal.rlp_items import item_starts, list_payload, rlp_list

# Legacy signatures: v = 27 + y before EIP-155, 35 + 2 * chain_id + y with it.
PRE_EIP155_V = (27, 28)
EIP155_V_OFFSET = 35
# Where py-evm's cached_property keeps a transaction's sender.
SENDER_CACHE = "sender"


def _typed_message(encoded: bytes) -> bytes | None:
    """``type || rlp(unsigned fields)`` from ``type || rlp(fields + [y, r, s])``."""
    payload = list_payload(encoded[1:])
    if payload is None:
        return None
    body = encoded[1:]
    starts = item_starts(body, *payload)
    if len(starts) < 3:
        return None
    unsigned = body[payload[0] : starts[-3]]
    return encoded[:1] + rlp_list((unsigned,))


def _legacy_message_and_parity(encoded: bytes, v: int) -> tuple[bytes, int] | None:
    """The signed message of a legacy transaction and its y parity, as py-evm reads ``v``."""
    fields = rlp.decode(encoded)[:6]
    if v in PRE_EIP155_V:
        return rlp.encode(fields), v - PRE_EIP155_V[0]
    if v >= EIP155_V_OFFSET:
        chain_id, parity = divmod(v - EIP155_V_OFFSET, 2)
        return rlp.encode([*fields, int_to_big_endian(chain_id), b"", b""]), parity
    return None


def fast_sender(transaction: SignedTransactionAPI) -> bytes | None:
    """The sender of ``transaction``, or None where py-evm should decide (see the module docstring)."""
    encoded = transaction.encode()
    if not encoded:
        return None
    if encoded[0] >= 0xC0:
        legacy = _legacy_message_and_parity(encoded, transaction.v)
        if legacy is None:
            return None
        message, parity = legacy
    else:
        typed = _typed_message(encoded)
        if typed is None:
            return None
        message, parity = typed, transaction.y_parity
    r, s = transaction.r, transaction.s
    if parity not in (0, 1) or not 0 < r < SECPK1_N or not 0 < s < SECPK1_N:
        return None
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((parity,))
    try:
        public_key = PublicKey.from_signature_and_message(signature, keccak(message), hasher=None)
    except ValueError:
        return None
    sender: bytes = keccak(public_key.format(compressed=False)[1:])[12:]
    return sender


def recover_senders(transactions: Iterable[SignedTransactionAPI]) -> None:
    """Fill the sender cache of every transaction this process is about to run (see the module docstring)."""
    for transaction in transactions:
        cache = transaction.__dict__
        if SENDER_CACHE in cache:
            continue
        sender = fast_sender(transaction)
        if sender is not None:
            cache[SENDER_CACHE] = sender
