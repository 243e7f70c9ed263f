"""ECRECOVER (0x01) straight on coincurve.

py-evm's version reaches the same libsecp256k1 through eth-keys, building a
``Signature`` and a ``PublicKey`` object on the way (a quarter of the call's
time). The rules are the yellow paper's: the input is read as 128 bytes (right
padded with zeros); ``v`` must be 27 or 28 and ``r``, ``s`` in ``[1, n)``;
anything else, or a signature that recovers no key, gives an empty output and
no failure.
"""

from __future__ import annotations

from coincurve import PublicKey
from eth.abc import ComputationAPI
from eth.constants import GAS_ECRECOVER, SECPK1_N
from eth_hash.auto import keccak

INPUT_LENGTH = 128
_ADDRESS_PADDING = bytes(12)


def recover_address(data: bytes) -> bytes | None:
    """The address that signed the ECRECOVER input ``data``, or None when it names none."""
    data = data[:INPUT_LENGTH].ljust(INPUT_LENGTH, b"\x00")
    v = int.from_bytes(data[32:64], "big")
    r = int.from_bytes(data[64:96], "big")
    s = int.from_bytes(data[96:128], "big")
    if v not in (27, 28) or not (0 < r < SECPK1_N and 0 < s < SECPK1_N):
        return None
    signature = data[64:128] + bytes((v - 27,))
    try:
        public_key = PublicKey.from_signature_and_message(signature, data[:32], hasher=None)
    except ValueError:
        return None
    return keccak(public_key.format(compressed=False)[1:])[12:]


def ecrecover(computation: ComputationAPI) -> ComputationAPI:
    computation.consume_gas(GAS_ECRECOVER, reason="ECRecover Precompile")
    address = recover_address(computation.msg.data_as_bytes)
    if address is not None:
        computation.output = _ADDRESS_PADDING + address
    return computation
