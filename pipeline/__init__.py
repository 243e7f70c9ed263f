"""One block through warmer, merkleizer and executor in a nursery; the join checks; stage timings."""

from .block_import import import_block
from .merkle_workers import InlineMerkleizer, Merkleizer, MerkleWorkerFailed, MerkleWorkerPool
from .part_workers import PartWorkerPool
from .timings import StageTimings

__all__ = [
    "InlineMerkleizer",
    "MerkleWorkerFailed",
    "MerkleWorkerPool",
    "Merkleizer",
    "PartWorkerPool",
    "StageTimings",
    "import_block",
]
