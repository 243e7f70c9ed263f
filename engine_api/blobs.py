"""``engine_getBlobsV1/V2``: blobs of the pool's blob transactions, by versioned hash.

The consensus client asks for the blobs a block it received names, to skip
fetching them from its peers. The answer has one item per hash asked, in
order: the blob with its proof (V1: the EIP-4844 blob proof, sidecars sent
before Osaka) or with its ``CELLS_PER_EXT_BLOB`` cell proofs (V2: EIP-7594,
sidecars of wrapper version 1), or ``null`` when the pool holds no such blob
of that kind (execution-apis cancun.md, osaka.md). At most
:data:`MAX_BLOB_HASHES` hashes per call (``-38004`` past it).
"""

from __future__ import annotations

from typing import Any

from client.blob_sidecar import CELLS_PER_EXT_BLOB, BlobSidecar, kzg_to_versioned_hash
from client.txpool import TxPool

from .errors import TOO_LARGE_REQUEST, RpcError
from .jsonrpc import Dispatcher, Param
from .models import Data, Hash32, Model

MAX_BLOB_HASHES = 128


class BlobAndProofV1(Model):
    blob: Data
    proof: Data


class BlobAndProofV2(Model):
    blob: Data
    proofs: list[Data]


def pooled_blobs(pool: TxPool) -> dict[bytes, tuple[BlobSidecar, int]]:
    """Every blob the pool holds: versioned hash -> (its sidecar, its index in the sidecar)."""
    found: dict[bytes, tuple[BlobSidecar, int]] = {}
    for pooled in pool.transactions():
        sidecar = pooled.sidecar
        if sidecar is not None:
            for index, commitment in enumerate(sidecar.commitments):
                found[kzg_to_versioned_hash(commitment)] = (sidecar, index)
    return found


class BlobMethods:
    def __init__(self, pool: TxPool) -> None:
        self.pool = pool

    def register(self, dispatcher: Dispatcher) -> None:
        hashes = Param("blobVersionedHashes", list[Hash32])
        dispatcher.register("engine_getBlobsV1", self.get_blobs_v1, hashes)
        dispatcher.register("engine_getBlobsV2", self.get_blobs_v2, hashes)

    async def get_blobs_v1(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        answers: list[dict[str, Any] | None] = []
        for found in self._lookup(hashes):
            if found is None or found[0].wrapper_version != 0:
                answers.append(None)
                continue
            sidecar, index = found
            answers.append(BlobAndProofV1(blob=sidecar.blobs[index], proof=sidecar.proofs[index]).to_json())
        return answers

    async def get_blobs_v2(self, hashes: list[bytes]) -> list[dict[str, Any] | None]:
        answers: list[dict[str, Any] | None] = []
        for found in self._lookup(hashes):
            if found is None or found[0].wrapper_version != 1:
                answers.append(None)
                continue
            sidecar, index = found
            proofs = sidecar.proofs[index * CELLS_PER_EXT_BLOB : (index + 1) * CELLS_PER_EXT_BLOB]
            answers.append(BlobAndProofV2(blob=sidecar.blobs[index], proofs=list(proofs)).to_json())
        return answers

    def _lookup(self, hashes: list[bytes]) -> list[tuple[BlobSidecar, int] | None]:
        if len(hashes) > MAX_BLOB_HASHES:
            raise RpcError(
                TOO_LARGE_REQUEST, f"too large request: {len(hashes)} hashes, at most {MAX_BLOB_HASHES}"
            )
        held = pooled_blobs(self.pool)
        return [held.get(versioned_hash) for versioned_hash in hashes]
