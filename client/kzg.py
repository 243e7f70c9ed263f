"""The KZG trusted setup and versioned hashes (EIP-4844), for the point-evaluation precompile and the pool.

The ckzg wheel ships no setup file; py-evm ships the mainnet one. Parsing it
takes seconds, so it is parsed once per process, on first use, without
precomputation (both users only verify).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import ckzg
import eth

TRUSTED_SETUP_PATH = Path(eth.__file__).parent / "_utils" / "kzg_trusted_setup.txt"
VERSIONED_HASH_VERSION_KZG = b"\x01"


@functools.cache
def trusted_setup() -> object:
    """The mainnet KZG trusted setup."""
    return ckzg.load_trusted_setup(str(TRUSTED_SETUP_PATH), 0)


def kzg_to_versioned_hash(commitment: bytes) -> bytes:
    return VERSIONED_HASH_VERSION_KZG + hashlib.sha256(commitment).digest()[1:]
