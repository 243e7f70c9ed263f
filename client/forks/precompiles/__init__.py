"""Precompiles on native libraries, in place of py-evm's slow ones.

* EIP-2537 BLS12-381 (0x0b-0x11): arkworks instead of py_ecc's pure Python;
* EIP-4844 point evaluation (0x0a): ckzg with the trusted setup loaded once,
  not on every call;
* ECRECOVER (0x01): coincurve without eth-keys' objects in between.

Each keeps py-evm's precompile shape (``f(computation) -> computation``) and
the specification's error rules; ``tests/client/test_native_precompiles.py``
holds them against py-evm's versions. The fork classes merge these maps over
py-evm's precompiles.
"""

from __future__ import annotations

from collections.abc import Callable

from eth._utils.address import force_bytes_to_address
from eth.abc import ComputationAPI
from eth.vm.forks.cancun.constants import POINT_EVALUATION_PRECOMPILE_ADDRESS
from eth.vm.forks.prague.constants import (
    BLS12_G1ADD_PRECOMPILE_ADDRESS,
    BLS12_G1MSM_PRECOMPILE_ADDRESS,
    BLS12_G2ADD_PRECOMPILE_ADDRESS,
    BLS12_G2MSM_PRECOMPILE_ADDRESS,
    BLS12_MAP_FP2_TO_G2_PRECOMPILE_ADDRESS,
    BLS12_MAP_FP_TO_G1_PRECOMPILE_ADDRESS,
    BLS12_PAIRING_CHECK_PRECOMPILE_ADDRESS,
)

from .bls12_381 import (
    bls12_g1_add,
    bls12_g1_msm,
    bls12_g2_add,
    bls12_g2_msm,
    bls12_map_fp2_to_g2,
    bls12_map_fp_to_g1,
    bls12_pairing_check,
)
from .ecrecover import ecrecover
from .point_evaluation import point_evaluation

Precompile = Callable[[ComputationAPI], ComputationAPI]

ECRECOVER_ADDRESS = force_bytes_to_address(b"\x01")

# Cancun's precompiles that have a native version here.
NATIVE_CANCUN_PRECOMPILES: dict[bytes, Precompile] = {
    ECRECOVER_ADDRESS: ecrecover,
    force_bytes_to_address(POINT_EVALUATION_PRECOMPILE_ADDRESS): point_evaluation,
}

# Prague's: Cancun's and EIP-2537's.
NATIVE_PRAGUE_PRECOMPILES: dict[bytes, Precompile] = {
    **NATIVE_CANCUN_PRECOMPILES,
    force_bytes_to_address(BLS12_G1ADD_PRECOMPILE_ADDRESS): bls12_g1_add,
    force_bytes_to_address(BLS12_G1MSM_PRECOMPILE_ADDRESS): bls12_g1_msm,
    force_bytes_to_address(BLS12_G2ADD_PRECOMPILE_ADDRESS): bls12_g2_add,
    force_bytes_to_address(BLS12_G2MSM_PRECOMPILE_ADDRESS): bls12_g2_msm,
    force_bytes_to_address(BLS12_PAIRING_CHECK_PRECOMPILE_ADDRESS): bls12_pairing_check,
    force_bytes_to_address(BLS12_MAP_FP_TO_G1_PRECOMPILE_ADDRESS): bls12_map_fp_to_g1,
    force_bytes_to_address(BLS12_MAP_FP2_TO_G2_PRECOMPILE_ADDRESS): bls12_map_fp2_to_g2,
}

__all__ = ["NATIVE_CANCUN_PRECOMPILES", "NATIVE_PRAGUE_PRECOMPILES", "Precompile"]
