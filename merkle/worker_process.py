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

Requests are tuples, answered in order, one reply each:

* ``("run", db_path, parent_root, deltas)``: walk, stage B and stages C/D here;
  replies with a :class:`~merkle.optimistic.MerkleResult`;
* ``("walk", db_path, parent_root, deltas)``: start a session; replies with the
  stage-B jobs (when stage B is spread over several workers);
* ``("storage", db_path, jobs)``: stage B for some accounts; replies with
  :class:`~merkle.optimistic.StorageRoots`;
* ``("finish", roots)``: stages C and D of the open session.

A missing parent node raises :class:`~merkle.stages.ParentStateMissing`,
which the pool re-raises by name.
"""

from __future__ import annotations

from typing import Any

from storage import RocksStore
from storage.rocks import Follower

from .optimistic import MerkleSession, compute_storage_roots
from .trie import NodeCache

# A few hundred MB of decoded trie nodes (a full branch node is about 1.3 kB).
NODE_CACHE_LIMIT = 300_000


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

    def handle(self, request: tuple[Any, ...]) -> Any:
        kind = request[0]
        if kind == "run":
            _, db_path, parent_root, deltas = request
            return MerkleSession(self.store_for(db_path), parent_root, deltas, self.node_cache).run()
        if kind == "walk":
            _, db_path, parent_root, deltas = request
            self.session = MerkleSession(self.store_for(db_path), parent_root, deltas, self.node_cache)
            return self.session.walk()
        if kind == "storage":
            _, db_path, jobs = request
            return compute_storage_roots(self.store_for(db_path), jobs, self.node_cache)
        if kind == "finish":
            session, self.session = self.session, None
            if session is None:
                raise RuntimeError("finish without a walk")
            return session.finish(request[1])
        raise ValueError(f"unknown request {kind!r}")

    def close(self) -> None:
        self.node_cache.clear()
        self.follower.close()
