"""EIP-4844 blob transactions in their network form: the sidecar (blobs, commitments, proofs) and its check.

A blob transaction travels to a node as ``0x03 || rlp([tx_payload_body,
blobs, commitments, proofs])`` (EIP-4844, one KZG proof per blob) or, from
Osaka on, ``0x03 || rlp([tx_payload_body, 1, blobs, commitments,
cell_proofs])`` (EIP-7594: wrapper version 1, 128 cell proofs per blob). Blocks
carry only ``0x03 || rlp(tx_payload_body)``; the sidecar stays with the pool
and goes to the consensus client in getPayload's blobs bundle.

The check: one commitment and the right number of proofs per versioned hash,
each versioned hash the commitment's, and the proofs verifying against the
blobs, with ckzg. The trusted setup is the mainnet one py-evm ships (the
ckzg wheel ships none), parsed once, on first use (about 8 s on this
machine's kind: callers run the check in a worker thread).
"""

from __future__ import annotations

from dataclasses import dataclass

import ckzg
import rlp
from rlp.exceptions import DecodingError

from .kzg import kzg_to_versioned_hash, trusted_setup

BLOB_TX_TYPE = 3
BYTES_PER_BLOB = 131072
CELLS_PER_EXT_BLOB = 128  # EIP-7594
WRAPPER_VERSION_CELL_PROOFS = 1


class MalformedSidecar(ValueError):
    """The network form does not decode: wrong shape, wrong sizes, unknown wrapper version."""


class SidecarMismatch(ValueError):
    """The sidecar does not belong to the transaction, or is of the other fork's wrapper version."""


class SidecarProofInvalid(ValueError):
    """The KZG proofs do not verify against the blobs and commitments."""


@dataclass(frozen=True)
class BlobSidecar:
    blobs: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    proofs: tuple[bytes, ...]
    wrapper_version: int  # 0: one blob proof per blob; 1: CELLS_PER_EXT_BLOB cell proofs per blob

    @property
    def size(self) -> int:
        return sum(map(len, self.blobs)) + 48 * (len(self.commitments) + len(self.proofs))


def make_sidecar(blobs: list[bytes], cell_proofs: bool) -> BlobSidecar:
    """The sidecar a sender attaches to ``blobs``: their commitments and proofs, computed with ckzg.

    ``cell_proofs``: Osaka on (wrapper version 1, EIP-7594 cell proofs); else one blob proof each.
    Seconds per blob with cell proofs: for tools and tests, not for the node's hot path.
    """
    setup = trusted_setup()
    commitments = [bytes(ckzg.blob_to_kzg_commitment(blob, setup)) for blob in blobs]
    if cell_proofs:
        proofs = [
            bytes(proof) for blob in blobs for proof in ckzg.compute_cells_and_kzg_proofs(blob, setup)[1]
        ]
    else:
        proofs = [
            bytes(ckzg.compute_blob_kzg_proof(blob, commitment, setup))
            for blob, commitment in zip(blobs, commitments, strict=True)
        ]
    version = WRAPPER_VERSION_CELL_PROOFS if cell_proofs else 0
    return BlobSidecar(tuple(blobs), tuple(commitments), tuple(proofs), version)


def network_form(canonical: bytes, sidecar: BlobSidecar) -> bytes:
    """A blob transaction's canonical encoding wrapped with its sidecar (split_network_form's inverse)."""
    if not canonical or canonical[0] != BLOB_TX_TYPE:
        raise MalformedSidecar("only a blob transaction (type 3) carries a sidecar")
    parts: list[object] = [rlp.decode(canonical[1:])]
    if sidecar.wrapper_version == WRAPPER_VERSION_CELL_PROOFS:
        parts.append(WRAPPER_VERSION_CELL_PROOFS)
    parts += [list(sidecar.blobs), list(sidecar.commitments), list(sidecar.proofs)]
    return bytes([BLOB_TX_TYPE]) + rlp.encode(parts)


def split_network_form(raw: bytes) -> tuple[bytes, BlobSidecar | None]:
    """``(canonical encoding, sidecar)`` of a raw tx; ``(raw, None)`` unless a wrapped blob tx."""
    if not raw or raw[0] != BLOB_TX_TYPE:
        return raw, None
    try:
        items = rlp.decode(raw[1:])
    except DecodingError as exc:
        raise MalformedSidecar(f"blob transaction is not RLP: {exc}") from None
    if not isinstance(items, list) or not items or not isinstance(items[0], list):
        return raw, None  # the canonical form: the caller refuses it for lacking a sidecar
    body, rest = items[0], items[1:]
    if len(rest) == 4 and rest[0] == bytes([WRAPPER_VERSION_CELL_PROOFS]):
        version, rest = WRAPPER_VERSION_CELL_PROOFS, rest[1:]
    elif len(rest) == 3:
        version = 0
    else:
        raise MalformedSidecar(
            "blob transaction wrapper is neither [tx, blobs, commitments, proofs] "
            "nor [tx, 1, blobs, commitments, cell_proofs]"
        )
    blobs, commitments, proofs = rest
    if not all(isinstance(part, list) for part in rest):
        raise MalformedSidecar("blobs, commitments and proofs must be lists")
    if any(not isinstance(blob, bytes) or len(blob) != BYTES_PER_BLOB for blob in blobs):
        raise MalformedSidecar(f"every blob must be {BYTES_PER_BLOB} bytes")
    if any(not isinstance(item, bytes) or len(item) != 48 for item in commitments + proofs):
        raise MalformedSidecar("every commitment and proof must be 48 bytes")
    sidecar = BlobSidecar(tuple(blobs), tuple(commitments), tuple(proofs), version)
    return bytes([BLOB_TX_TYPE]) + rlp.encode(body), sidecar


def verify_sidecar(sidecar: BlobSidecar, versioned_hashes: list[bytes], cell_proofs: bool) -> None:
    """Check ``sidecar`` against the transaction's versioned hashes; ``cell_proofs``: Osaka on (EIP-7594)."""
    expected_version = WRAPPER_VERSION_CELL_PROOFS if cell_proofs else 0
    if sidecar.wrapper_version != expected_version:
        raise SidecarMismatch(
            f"blob sidecar of wrapper version {sidecar.wrapper_version}, this fork takes {expected_version}"
        )
    count = len(versioned_hashes)
    proofs_per_blob = CELLS_PER_EXT_BLOB if cell_proofs else 1
    if len(sidecar.blobs) != count or len(sidecar.commitments) != count:
        raise SidecarMismatch(
            f"{count} versioned hashes, {len(sidecar.blobs)} blobs, {len(sidecar.commitments)} commitments"
        )
    if len(sidecar.proofs) != count * proofs_per_blob:
        raise SidecarMismatch(
            f"{len(sidecar.proofs)} proofs for {count} blobs, need {count * proofs_per_blob}"
        )
    for index, (commitment, versioned_hash) in enumerate(
        zip(sidecar.commitments, versioned_hashes, strict=True)
    ):
        if kzg_to_versioned_hash(commitment) != versioned_hash:
            raise SidecarMismatch(f"commitment {index} does not hash to versioned hash {index}")
    setup = trusted_setup()
    try:
        if cell_proofs:
            cells = [cell for blob in sidecar.blobs for cell in ckzg.compute_cells(blob, setup)]
            commitments = [c for c in sidecar.commitments for _ in range(CELLS_PER_EXT_BLOB)]
            indices = list(range(CELLS_PER_EXT_BLOB)) * count
            verified = ckzg.verify_cell_kzg_proof_batch(
                commitments, indices, cells, list(sidecar.proofs), setup
            )
        else:
            # This binding takes each list as one concatenated bytes object (the cell call takes lists).
            verified = ckzg.verify_blob_kzg_proof_batch(
                b"".join(sidecar.blobs), b"".join(sidecar.commitments), b"".join(sidecar.proofs), setup
            )
    except RuntimeError as exc:  # ckzg refuses a blob or point that is not canonical
        raise SidecarProofInvalid(f"blob sidecar is malformed: {exc}") from None
    if not verified:
        raise SidecarProofInvalid("blob KZG proofs do not verify")
