"""keccak256 on pysha3 (``safe-pysha3``) rather than pycryptodome.

eth-hash, which py-evm, trie, rlp, eth-utils and balrex all hash through
(``eth_hash.auto.keccak``), prefers pycryptodome when both are installed, and
pycryptodome must stay installed (py-evm's ``eth.consensus`` imports it).
pysha3's C extension is several times faster per call (about 1.3 us against
8.6 us for 32 bytes here; ``ef-tests/crypto_timings.py`` measures it), and a
block import hashes hundreds of thousands of trie nodes and keys.

Importing this module selects pysha3 for this process and, through
``ETH_HASH_BACKEND``, for every process it spawns afterwards (worker processes
are spawned, so they choose their backend on their own first hash). A
non-empty ``ETH_HASH_BACKEND`` set by the user is left alone.
"""

from __future__ import annotations

import os

import eth_hash.auto
from eth_hash.backends import pysha3

PREFERRED_BACKEND = "pysha3"


def select_keccak_backend() -> None:
    """Point the shared ``eth_hash.auto.keccak`` at pysha3 unless the environment names a backend."""
    chosen = os.environ.get("ETH_HASH_BACKEND") or PREFERRED_BACKEND
    os.environ["ETH_HASH_BACKEND"] = chosen
    if chosen != PREFERRED_BACKEND:
        return
    keccak = eth_hash.auto.keccak
    keccak.hasher = pysha3.keccak256
    keccak.preimage = pysha3.preimage


select_keccak_backend()
