"""EIP-4844 point evaluation (0x0a) on ckzg, with the trusted setup loaded once per process.

py-evm's version already verifies with ckzg but loads the mainnet trusted setup
(a text file of ~4,000 points, seconds to parse) on every call. Here the setup
is loaded on the first call and kept; the checks and their order are the EIP's.
The setup file is the one py-evm ships (the ckzg wheel ships none).
"""

from __future__ import annotations

import ckzg
from eth.abc import ComputationAPI
from eth.exceptions import VMError
from eth.vm.forks.cancun.constants import (
    BLS_MODULUS,
    FIELD_ELEMENTS_PER_BLOB,
    POINT_EVALUATION_PRECOMPILE_GAS,
)

from client.kzg import kzg_to_versioned_hash, trusted_setup

INPUT_LENGTH = 192  # versioned_hash | z | y | commitment | proof
SUCCESS_OUTPUT = FIELD_ELEMENTS_PER_BLOB.to_bytes(32, "big") + BLS_MODULUS.to_bytes(32, "big")


class PointEvaluationInputLengthInvalid(VMError):
    """The input is not 192 bytes."""


class VersionedHashMismatch(VMError):
    """The versioned hash is not the commitment's."""


class KzgProofInvalid(VMError):
    """The proof does not verify (or z, y, the commitment or the proof is malformed)."""






def point_evaluation(computation: ComputationAPI) -> ComputationAPI:
    """Verify ``p(z) == y`` for the polynomial committed to; output the blob size and the modulus."""
    computation.consume_gas(POINT_EVALUATION_PRECOMPILE_GAS, reason="Point Evaluation Precompile")
    data = computation.msg.data_as_bytes
    if len(data) != INPUT_LENGTH:
        raise PointEvaluationInputLengthInvalid(f"takes {INPUT_LENGTH} bytes, not {len(data)}")
    versioned_hash, z, y, commitment, proof = data[:32], data[32:64], data[64:96], data[96:144], data[144:]
    if kzg_to_versioned_hash(commitment) != versioned_hash:
        raise VersionedHashMismatch("the versioned hash is not the commitment's")
    try:
        verified = ckzg.verify_kzg_proof(commitment, z, y, proof, trusted_setup())
    except RuntimeError as exc:
        # ckzg's C code rejects a z or y not below the modulus and a commitment or proof
        # that is not a valid compressed subgroup point.
        raise KzgProofInvalid(f"malformed point evaluation input: {exc}") from exc
    if not verified:
        raise KzgProofInvalid("the KZG proof does not verify")
    computation.output = SUCCESS_OUTPUT
    return computation
