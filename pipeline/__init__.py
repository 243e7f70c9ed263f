"""One block through warmer, merkleizer and executor in a nursery; the join checks; stage timings.

The pipeline drives any :class:`~pipeline.chain.ChainCore` (the chain core in
``client/`` is the one that exists) and owns the types both sides share: the
prepared block, the execution result, the verdicts (:mod:`pipeline.verdicts`).
"""

from .block_import import catch_up_workers, import_block, import_block_sync
from .chain import BlockExecution, ChainCore, ImportedBlock, LaterPart, PreparedBlock
from .later_part import LaterPartPool
from .merkle_workers import InlineMerkleizer, Merkleizer, MerkleWorkerFailed, MerkleWorkerPool
from .timings import StageTimings
from .verdicts import BAL_RULES, BlockRejected, Rule, UnknownParent, require

__all__ = [
    "BAL_RULES",
    "BlockExecution",
    "BlockRejected",
    "ChainCore",
    "ImportedBlock",
    "InlineMerkleizer",
    "LaterPart",
    "LaterPartPool",
    "MerkleWorkerFailed",
    "MerkleWorkerPool",
    "Merkleizer",
    "PreparedBlock",
    "Rule",
    "StageTimings",
    "UnknownParent",
    "catch_up_workers",
    "import_block",
    "import_block_sync",
    "require",
]
