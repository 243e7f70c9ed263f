"""Blob sidecars: built with ckzg, wrapped into the network form and back, checked in both versions."""

from __future__ import annotations

import pytest

from client.blob_sidecar import (
    CELLS_PER_EXT_BLOB,
    BlobSidecar,
    SidecarMismatch,
    SidecarProofInvalid,
    make_sidecar,
    network_form,
    split_network_form,
    verify_sidecar,
)
from client.kzg import kzg_to_versioned_hash

# Two blobs of canonical field elements (each 32-byte word below the BLS modulus).
BLOBS = [b"".join((i * seed).to_bytes(32, "big") for i in range(4096)) for seed in (1, 3)]
CANONICAL = bytes([3]) + bytes.fromhex("c3010203")  # a type-3 envelope around an RLP list


def _hashes(sidecar: BlobSidecar) -> list[bytes]:
    return [kzg_to_versioned_hash(commitment) for commitment in sidecar.commitments]


@pytest.mark.parametrize("cell_proofs", [False, True], ids=["blob-proofs", "cell-proofs"])
def test_a_built_sidecar_verifies_and_survives_the_network_form(cell_proofs: bool) -> None:
    sidecar = make_sidecar(BLOBS, cell_proofs)
    assert len(sidecar.proofs) == len(BLOBS) * (CELLS_PER_EXT_BLOB if cell_proofs else 1)
    verify_sidecar(sidecar, _hashes(sidecar), cell_proofs)
    assert split_network_form(network_form(CANONICAL, sidecar)) == (CANONICAL, sidecar)
    with pytest.raises(SidecarMismatch):  # the other fork's wrapper
        verify_sidecar(sidecar, _hashes(sidecar), not cell_proofs)


def test_swapped_blob_proofs_are_refused() -> None:
    sidecar = make_sidecar(BLOBS, cell_proofs=False)
    swapped = BlobSidecar(sidecar.blobs, sidecar.commitments, sidecar.proofs[::-1], 0)
    with pytest.raises(SidecarProofInvalid):
        verify_sidecar(swapped, _hashes(sidecar), cell_proofs=False)
