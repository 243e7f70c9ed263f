"""The body of a merkleizer worker process: answer requests over a pipe, block after block.

A worker is started once (by ``pipeline.merkle_workers``) and kept alive, so
the price of starting Python and importing the trie code is paid once, not per
block. It reads the parent state through its own *secondary* RocksDB handle
on the node's database (opened on first use, reopened if the database path
changes, caught up with the primary before each block), so no state crosses
the pipe: only deltas go in, and roots, account records and new trie nodes
come back. The trie nodes it reads or creates stay cached, decoded, from block
to block (the upper levels of the tries are read by every block, and the next
block's parent state is mostly the nodes this one created); nodes are
content-addressed, so a cached node is never stale, and the cache is dropped
when it grows past :data:`NODE_CACHE_LIMIT` entries or the database changes.

Requests are tuples, answered in order, one reply each:

* ``("run", db_path, parent_root, deltas)``: walk, stage B and stages C/D here;
  replies with a :class:`~merkle.optimistic.MerkleResult`;
* ``("walk", db_path, parent_root, deltas)``: start a session; replies with the
  stage-B jobs (when stage B is spread over several workers);
* ``("storage", db_path, jobs)``: stage B for some accounts; replies with
  :class:`~merkle.optimistic.StorageRoots`;
* ``("finish", roots)``: stages C and D of the open session;
* ``("ping",)``: replies ``"ready"`` (the pool waits for it after starting a worker);
* ``("stop",)``: exit (so does a closed pipe).

A reply is ``("ok", value)`` or ``("error", kind, message)``, where ``kind`` is
``"parent-state-missing"`` or ``"internal"``.
"""

from __future__ import annotations

import shutil
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from storage import RocksStore

from .optimistic import MerkleSession, compute_storage_roots
from .stages import ParentStateMissing
from .trie import NodeCache

# A few hundred MB of decoded trie nodes (a full branch node is about 1.3 kB).
NODE_CACHE_LIMIT = 300_000


class _Worker:
    def __init__(self) -> None:
        self.node_cache: NodeCache = {}
        self.store: RocksStore | None = None
        self.secondary_dir = Path(tempfile.mkdtemp(prefix="balrex-merkle-"))
        self.session: MerkleSession | None = None

    def store_for(self, db_path: str) -> RocksStore:
        """The secondary handle on ``db_path``, caught up with everything committed so far."""
        if self.store is None or str(self.store.path) != db_path:
            self.close_store()
            self.store = RocksStore.secondary(db_path, self.secondary_dir / "follower")
        if len(self.node_cache) > NODE_CACHE_LIMIT:
            self.node_cache.clear()
        self.store.catch_up()
        return self.store

    def handle(self, request: tuple[Any, ...]) -> Any:
        kind = request[0]
        if kind == "ping":
            return "ready"
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

    def close_store(self) -> None:
        self.node_cache.clear()
        if self.store is not None:
            self.store.close()
            self.store = None
        shutil.rmtree(self.secondary_dir / "follower", ignore_errors=True)


def serve(conn: Connection) -> None:
    """The worker's main loop (the process target)."""
    worker = _Worker()
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return  # the pipeline is gone
            if request[0] == "stop":
                return
            try:
                reply: tuple[Any, ...] = ("ok", worker.handle(request))
            except ParentStateMissing as exc:
                reply = ("error", "parent-state-missing", str(exc))
            except Exception as exc:  # reported to the pipeline, which fails the block, not the node
                reply = ("error", "internal", f"{type(exc).__name__}: {exc}")
            conn.send(reply)
    finally:
        worker.close_store()
        shutil.rmtree(worker.secondary_dir, ignore_errors=True)
