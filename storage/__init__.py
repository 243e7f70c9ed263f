"""The store: RocksDB (default) or in-memory, with key spaces and atomic batches."""

from .chain import FINALIZED, HEAD, SAFE, TIP, Chain, StoredBlock
from .memory import MemoryStore
from .rocks import RocksStore
from .state import EMPTY_CODE_HASH, EMPTY_ROOT, AccountRecord, FlatState, StateWrites
from .store import Space, Store, StoreClosed, WriteBatch

__all__ = [
    "EMPTY_CODE_HASH",
    "FINALIZED",
    "HEAD",
    "SAFE",
    "TIP",
    "EMPTY_ROOT",
    "AccountRecord",
    "Chain",
    "FlatState",
    "MemoryStore",
    "RocksStore",
    "Space",
    "StateWrites",
    "Store",
    "StoreClosed",
    "StoredBlock",
    "WriteBatch",
]
