"""The store: RocksDB (default) or in-memory, with key spaces and atomic batches."""

from .block_rlp import EncodedBlock, MalformedBlock, join_block, split_block
from .chain import FINALIZED, FLAT_STATE_BLOCK, HEAD, SAFE, Chain, StoredBlock
from .flat_changes import FlatChanges, FlatStateEditor, NoState, ParentState
from .memory import MemoryStore
from .rocks import RocksStore, StoreLayoutError
from .state import EMPTY_CODE_HASH, EMPTY_ROOT, AccountRecord, FlatState, StateWrites
from .store import Space, Store, StoreClosed, WriteBatch

__all__ = [
    "EMPTY_CODE_HASH",
    "FINALIZED",
    "HEAD",
    "SAFE",
    "FLAT_STATE_BLOCK",
    "EMPTY_ROOT",
    "AccountRecord",
    "EncodedBlock",
    "FlatChanges",
    "FlatStateEditor",
    "NoState",
    "ParentState",
    "MalformedBlock",
    "join_block",
    "split_block",
    "Chain",
    "FlatState",
    "MemoryStore",
    "RocksStore",
    "Space",
    "StateWrites",
    "Store",
    "StoreClosed",
    "StoreLayoutError",
    "StoredBlock",
    "WriteBatch",
]
