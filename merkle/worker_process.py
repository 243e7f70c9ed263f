"""What a merkleizer worker process does with each request, block after block.

A worker is started once (by ``pipeline.merkle_workers``, whose generic loop
``pipeline.processes.serve`` feeds it requests) and kept alive, so the price of
starting Python and importing the trie code is paid once, not per block. It
reads the parent state through its own *secondary* RocksDB handle on the
node's database (``storage.rocks.Follower``), so no state crosses the pipe:
only deltas go in, and roots, account records and new trie nodes come back.
The trie nodes it reads or creates stay cached, decoded, from block to block
(the upper levels of the tries are read by every block, and the next block's
parent state is mostly the nodes this one created); nodes are
content-addressed, so a cached node is never stale, and the cache is dropped
when it grows past :data:`NODE_CACHE_LIMIT` entries or the database changes.

Requests are the frozen dataclasses below, answered in order, one reply each:

* :class:`RunRequest`: walk, stage B and stages C/D here; replies with a
  :class:`~merkle.optimistic.MerkleResult`;
* :class:`WalkRequest`: start a session; replies with the stage-B jobs (when
  stage B is spread over several workers);
* :class:`StorageRequest`: stage B for some accounts; replies with
  :class:`~merkle.optimistic.StorageRoots`;
* :class:`FinishRequest`: stages C and D of the open session; replies with a
  :class:`~merkle.optimistic.MerkleResult`.

A missing parent node raises :class:`~merkle.stages.ParentStateMissing`,
which crosses the pipe as itself (``pipeline.processes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bal.deltas import AccountDelta
from storage import RocksStore
from storage.rocks import Follower

from .optimistic import MerkleResult, MerkleSession, StorageJob, StorageRoots, compute_storage_roots
from .trie import NodeCache

# A few hundred MB of decoded trie nodes (a full branch node is about 1.3 kB).
NODE_CACHE_LIMIT = 300_000


@dataclass(frozen=True)
class RunRequest:
    db_path: str
    parent_root: bytes
    deltas: tuple[AccountDelta, ...]


@dataclass(frozen=True)
class WalkRequest:
    db_path: str
    parent_root: bytes
    deltas: tuple[AccountDelta, ...]


@dataclass(frozen=True)
class StorageRequest:
    db_path: str
    jobs: tuple[StorageJob, ...]


@dataclass(frozen=True)
class FinishRequest:
    roots: Mapping[bytes, bytes]
    parent_slots: Mapping[bytes, Mapping[int, int]]


class MerkleWorker:
    def __init__(self) -> None:
        self.node_cache: NodeCache = {}
        self.follower = Follower("balrex-merkle-")
        self.session: MerkleSession | None = None

    def store_for(self, db_path: str) -> RocksStore:
        """The secondary handle on ``db_path``, caught up with everything committed so far."""
        store, reopened = self.follower.store_for(db_path)
        if reopened or len(self.node_cache) > NODE_CACHE_LIMIT:
            self.node_cache.clear()
        return store

    def handle(self, request: object) -> MerkleResult | tuple[StorageJob, ...] | StorageRoots:
        match request:
            case RunRequest(db_path, parent_root, deltas):
                return MerkleSession(self.store_for(db_path), parent_root, deltas, self.node_cache).run()
            case WalkRequest(db_path, parent_root, deltas):
                self.session = MerkleSession(self.store_for(db_path), parent_root, deltas, self.node_cache)
                return tuple(self.session.walk())
            case StorageRequest(db_path, jobs):
                return compute_storage_roots(self.store_for(db_path), jobs, self.node_cache)
            case FinishRequest(roots, parent_slots):
                session, self.session = self.session, None
                if session is None:
                    raise RuntimeError("finish without a walk")
                return session.finish(roots, parent_slots)
        raise TypeError(f"unknown request {type(request).__name__}")

    def catch_up(self) -> None:
        self.follower.catch_up()

    def close(self) -> None:
        self.node_cache.clear()
        self.follower.close()
