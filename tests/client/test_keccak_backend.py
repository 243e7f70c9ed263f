"""client/keccak_backend.py: keccak256 runs on pysha3 here and in the processes this one starts."""

from __future__ import annotations

import subprocess
import sys

import eth_hash.auto
from eth_hash.backends import pysha3

import client  # noqa: F401  (importing client selects the backend)

# What a worker that has not imported client yet hashes with: its first hash chooses.
CHILD_BACKEND = "from eth_hash.auto import keccak; keccak(b''); print(type(keccak.hasher.__self__).__name__)"


def test_this_process_hashes_with_pysha3() -> None:
    assert eth_hash.auto.keccak.hasher == pysha3.keccak256
    assert eth_hash.auto.keccak(b"") == bytes.fromhex(
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def test_started_processes_hash_with_pysha3() -> None:
    """Spawned workers inherit the environment, as this child does."""
    child = subprocess.run([sys.executable, "-c", CHILD_BACKEND], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == type(pysha3.backend).__name__
