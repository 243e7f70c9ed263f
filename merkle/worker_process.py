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

For the same reason the worker does not catch its handle up with the node's
writes before each request, as the later-part worker must (it reads the flat
state, which changes in place): an older view of the database may lack a
node, never holds a wrong one. A request runs on the view as it is; if it
fails there (a node the view lacks, created by another process since), the
view is caught up and the request runs once more, and that answer (or error)
is final. On the bench chain the catch-ups this skips were 12% of the
worker's CPU time, on the core the other two processes share.

A view is still caught up once it is :data:`MAX_VIEW_AGE_S` old: a
secondary handle keeps the files of the database it sees open, so a view that
never caught up would keep every file the primary has since compacted away on
the disk. The node's hint after it stores a block does it while the worker is
idle (on a network's 12-second slots, a few blocks' replay in the gap between
them); a request does it first when no hint came (blocks imported back to
back keep the worker busy with the next block, ``pipeline.merkle_workers``).
A catch-up costs at most the primary's unflushed log, whatever the view's age
(the rest it finds as new files): one replay per minute instead of one per block.

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

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bal.deltas import AccountDelta
from storage import RocksStore, Store
from storage.rocks import Follower

from .optimistic import MerkleResult, MerkleSession, StorageJob, StorageRoots, compute_storage_roots
from .trie import NODE_CACHE_LIMIT, NodeCache

Answer = TypeVar("Answer")

# The oldest a view gets before the idle hint, or else a request, catches it up (module docstring).
MAX_VIEW_AGE_S = 60.0


@dataclass(frozen=True)
class RunRequest:
    """Merkleize one block; ``parent_root`` None: on the root the worker's previous run produced.

    A chained request (None) follows one for the block before it, sent before that one's
    answer was read (``pipeline.merkle_workers.MerkleWorkerPool.merkleize_ahead``); if that
    run failed, so does this one.
    """

    db_path: str
    parent_root: bytes | None
    deltas: tuple[AccountDelta, ...]


class NoPreviousRun(RuntimeError):
    """A chained :class:`RunRequest` came after a request that produced no root."""


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
        # The root the last request produced, which a chained RunRequest builds on (None: no root).
        self.last_root: bytes | None = None
        # When the view last caught up (or was opened, which sees everything so far).
        self.view_time = time.monotonic()

    def view(self, db_path: str) -> RocksStore:
        """The handle on ``db_path`` as it is: not caught up unless opened just now (module docstring)."""
        store, reopened = self.follower.handle_for(db_path)
        if reopened:
            self.node_cache.clear()
            self.view_time = time.monotonic()
        self._bound_the_view()
        return store

    def _bound_the_view(self) -> None:
        """Catch the view up if it is too old, or if the node cache is dropped for its size.

        Past its limit the cache is dropped; the nodes read next come from the store.
        """
        if len(self.node_cache) > NODE_CACHE_LIMIT:
            self.node_cache.clear()
            self._catch_up_now()
        elif time.monotonic() - self.view_time > MAX_VIEW_AGE_S:
            self._catch_up_now()

    def _catch_up_now(self) -> None:
        self.follower.catch_up()
        self.view_time = time.monotonic()

    def on_a_current_view_if_it_fails(
        self, attempt: Callable[[], Answer], again: Callable[[], Answer] | None = None
    ) -> Answer:
        """``attempt()`` on the view as it is; if it raises, catch the view up and return ``again()``.

        Any failure is retried, not only a missing node: whatever the view's
        age could explain gets a second chance, and what fails again on a
        caught-up view is the answer. ``again`` (default: ``attempt``) must
        start over, on a fresh session.
        """
        try:
            return attempt()
        except Exception:
            self._catch_up_now()
            return (again or attempt)()

    def handle(self, request: object) -> MerkleResult | tuple[StorageJob, ...] | StorageRoots:
        previous_root, self.last_root = self.last_root, None
        match request:
            case RunRequest(db_path, parent_root, deltas):
                parent = previous_root if parent_root is None else parent_root
                if parent is None:
                    raise NoPreviousRun("a chained merkleization after one that failed")
                store = self.view(db_path)
                result = self.on_a_current_view_if_it_fails(
                    lambda: MerkleSession(store, parent, deltas, self.node_cache).run()
                )
                self.last_root = result.state_root
                return result
            case WalkRequest(db_path, parent_root, deltas):
                self.session = None
                store = self.view(db_path)
                self.session, jobs = self.on_a_current_view_if_it_fails(
                    lambda: self._walked(store, parent_root, deltas)
                )
                return jobs
            case StorageRequest(db_path, jobs):
                store = self.view(db_path)
                return self.on_a_current_view_if_it_fails(
                    lambda: compute_storage_roots(store, jobs, self.node_cache)
                )
            case FinishRequest(roots, parent_slots):
                session, self.session = self.session, None
                if session is None:
                    raise RuntimeError("finish without a walk")
                # Stage C may read nodes the walk did not (a branch left with one child is
                # merged into it): the second attempt walks again, on the caught-up view.
                return self.on_a_current_view_if_it_fails(
                    lambda: session.finish(roots, parent_slots),
                    lambda: self._walked(session.nodes.store, session.parent_root, session.deltas)[0].finish(
                        roots, parent_slots
                    ),
                )
        raise TypeError(f"unknown request {type(request).__name__}")

    def _walked(
        self, store: Store, parent_root: bytes, deltas: tuple[AccountDelta, ...]
    ) -> tuple[MerkleSession, tuple[StorageJob, ...]]:
        session = MerkleSession(store, parent_root, deltas, self.node_cache)
        return session, tuple(session.walk())

    def open(self, db_path: str) -> None:
        self.view(db_path)

    def catch_up(self, db_path: str) -> None:
        """The node's hint that this worker is idle (a block was stored, or fork choice moved).

        The view is caught up when a request needs it (module docstring), so the
        hint only does now what would otherwise delay the next request: drop an
        overgrown node cache, or catch up a view older than :data:`MAX_VIEW_AGE_S`.
        A view on another store is left as it is (that store may be gone).
        """
        if self.follower.follows(db_path):
            self._bound_the_view()

    def close(self) -> None:
        self.node_cache.clear()
        self.follower.close()
