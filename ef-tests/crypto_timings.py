"""Per-call timings of the crypto a block runs: native precompiles against py-evm's, keccak backends.

    .venv/bin/python ef-tests/crypto_timings.py [--budget SECONDS]

Each row runs one function on one fixed, valid input repeatedly for about
``--budget`` seconds (at least once) and prints the best per-call time, so a
busy machine inflates the numbers less. Not a test: numbers for the report.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ckzg
from eth import precompiles as pyevm
from eth.precompiles.point_evaluation import point_evaluation_precompile
from eth.vm.forks.cancun.constants import BLS_MODULUS
from eth_hash.backends import pycryptodome, pysha3
from eth_keys import keys
from py_ecc.optimized_bls12_381 import G1, G2, curve_order, multiply, normalize

from client.forks.precompiles import bls12_381 as native
from client.forks.precompiles.ecrecover import ecrecover
from client.forks.precompiles.point_evaluation import point_evaluation
from client.kzg import kzg_to_versioned_hash, trusted_setup


@dataclass
class _Message:
    data: bytes

    @property
    def data_as_bytes(self) -> bytes:
        return self.data


@dataclass
class _Computation:
    msg: _Message
    output: bytes = field(default=b"")

    def consume_gas(self, amount: int, reason: str) -> None:
        pass


def best_seconds_per_call(call: Callable[[], object], budget: float) -> float:
    """The fastest of repeated calls within ``budget`` seconds (one call at least)."""
    best = float("inf")
    deadline = time.perf_counter() + budget
    while True:
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() >= deadline:
            return best


def _fp(value: int) -> bytes:
    return value.to_bytes(64, "big")


def _g1(k: int) -> bytes:
    x, y = normalize(multiply(G1, k))
    return _fp(int(x)) + _fp(int(y))


def _g2(k: int) -> bytes:
    x, y = normalize(multiply(G2, k))
    return b"".join(_fp(int(c)) for c in (*x.coeffs, *y.coeffs))


def _scalar(k: int) -> bytes:
    return (k * 0x9E3779B97F4A7C15F39CC0605CEDC834 % curve_order).to_bytes(32, "big")


def bls_inputs() -> dict[str, tuple[Callable, Callable, bytes]]:
    """name -> (native, py-evm, input) for EIP-2537, on valid subgroup points."""
    pairing_input = _g1(3) + _g2(5) + _g1(curve_order - 15) + _g2(1)
    return {
        "G1ADD": (native.bls12_g1_add, pyevm.bls12_g1_add, _g1(2) + _g1(3)),
        "G1MSM k=1": (native.bls12_g1_msm, pyevm.bls12_g1_msm, _g1(2) + _scalar(1)),
        "G1MSM k=8": (
            native.bls12_g1_msm,
            pyevm.bls12_g1_msm,
            b"".join(_g1(i + 2) + _scalar(i + 1) for i in range(8)),
        ),
        "G2ADD": (native.bls12_g2_add, pyevm.bls12_g2_add, _g2(2) + _g2(3)),
        "G2MSM k=1": (native.bls12_g2_msm, pyevm.bls12_g2_msm, _g2(2) + _scalar(1)),
        "G2MSM k=8": (
            native.bls12_g2_msm,
            pyevm.bls12_g2_msm,
            b"".join(_g2(i + 2) + _scalar(i + 1) for i in range(8)),
        ),
        "PAIRING k=2": (native.bls12_pairing_check, pyevm.bls12_pairing_check, pairing_input),
        "MAP_FP_TO_G1": (native.bls12_map_fp_to_g1, pyevm.bls12_map_fp_to_g1, _fp(0x1234567 << 200)),
        "MAP_FP2_TO_G2": (
            native.bls12_map_fp2_to_g2,
            pyevm.bls12_map_fp2_to_g2,
            _fp(0x1234567 << 200) + _fp(0x7654321 << 190),
        ),
    }


def point_evaluation_input() -> bytes:
    blob = b"".join((i * 7919 % BLS_MODULUS).to_bytes(32, "big") for i in range(4096))
    commitment = ckzg.blob_to_kzg_commitment(blob, trusted_setup())
    z = (123456789).to_bytes(32, "big")
    proof, y = ckzg.compute_kzg_proof(blob, z, trusted_setup())
    return kzg_to_versioned_hash(commitment) + z + y + commitment + proof


def ecrecover_input() -> bytes:
    message_hash = b"\x22" * 32
    v, r, s = keys.PrivateKey(b"\x11" * 32).sign_msg_hash(message_hash).vrs
    return message_hash + b"".join(value.to_bytes(32, "big") for value in (v + 27, r, s))


def _row(name: str, before: float, after: float) -> None:
    print(f"{name:16s} {before * 1e6:14.1f} {after * 1e6:12.1f} {before / after:10.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per row and side")
    budget = parser.parse_args().budget

    def per_call(precompile: Callable, data: bytes) -> float:
        return best_seconds_per_call(lambda: precompile(_Computation(_Message(data))), budget)

    print(f"{'call':16s} {'py-evm (us)':>14s} {'native (us)':>12s} {'speed-up':>11s}")
    for name, (native_fn, pyevm_fn, data) in bls_inputs().items():
        _row(name, per_call(pyevm_fn, data), per_call(native_fn, data))
    data = point_evaluation_input()
    _row("POINT_EVAL", per_call(point_evaluation_precompile, data), per_call(point_evaluation, data))
    data = ecrecover_input()
    _row("ECRECOVER", per_call(pyevm.ecrecover, data), per_call(ecrecover, data))

    print(f"\n{'keccak256':16s} {'pycryptodome':>14s} {'pysha3':>12s}")
    for size in (32, 64, 136, 532):
        data = os.urandom(size)

        def many(hasher: Callable[[bytes], bytes], data: bytes = data) -> None:
            for _ in range(1000):
                hasher(data)

        before = best_seconds_per_call(lambda: many(pycryptodome.keccak256), budget) / 1000
        after = best_seconds_per_call(lambda: many(pysha3.keccak256), budget) / 1000
        _row(f"{size} bytes", before, after)


if __name__ == "__main__":
    main()
