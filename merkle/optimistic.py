"""The optimistic merkleizer's work, cut into steps that can run in other processes.

On the BAL path the state root is computed from the BAL's deltas while the
block executes (pipeline.md §2). The work splits into:

1. **walk**: read every touched account's parent record, walking its state-trie
   path once in hashed-key order; the nodes stay, decoded, in the session's node cache;
2. **stage B**: the new storage root of each account whose storage changes;
   accounts are independent, so this part can be spread over several workers
   (:func:`compute_storage_roots` needs only a store handle, no session);
3. **stages C and D**: the new account records into the state trie, reusing
   the walked nodes, and the root.

The walk and stage B read the parent values of everything the block changes
(account records, slots), which are what the block's flat-state changes are
computed against: the result carries those changes too
(:class:`~storage.FlatChanges`, encoded), so the node's process does not
compute them after execution, when it has the block's remaining work to itself.

Every step is a plain function of a store handle and picklable values, so the
same code runs in the pipeline's worker processes (which read the parent trie
through their own RocksDB handle) and in the calling process (in-memory
stores). Nothing here writes to the store: results carry the new nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bal.deltas import AccountDelta
from storage import AccountRecord, FlatChanges, Store

from .nodes import NodeOverlay
from .stages import (
    Touched,
    base_storage_root,
    parent_state_required,
    read_parent_accounts,
    state_writes,
    storage_root,
    update_accounts,
)
from .trie import NodeCache, PatriciaTrie


@dataclass(frozen=True)
class StorageJob:
    """Stage B for one account: its storage root before the block, and the slot writes."""

    address: bytes
    base_root: bytes
    storage: Mapping[int, int]


@dataclass(frozen=True)
class StorageRoots:
    """Stage B's answer: new storage roots, the nodes written, and each job's slots before the block."""

    roots: dict[bytes, bytes]
    nodes: dict[bytes, bytes]
    parent_slots: dict[bytes, dict[int, int]]


@dataclass(frozen=True)
class MerkleResult:
    """What the merkleizer hands back: the root, each touched account's record, the new nodes,
    and the block's flat-state changes against the parent state (encoded, and their undo too)."""

    state_root: bytes
    accounts: dict[bytes, AccountRecord | None]
    nodes: dict[bytes, bytes]
    flat_changes: FlatChanges


@dataclass(frozen=True)
class ParentValues:
    """The parent state's values of what a block changes, as the walk and stage B read them.

    It answers :meth:`FlatChanges.of`'s reads (``storage.flat_changes.ParentState``):
    the touched accounts and the slots the deltas write, nothing else.
    """

    accounts: Mapping[bytes, AccountRecord | None]
    slots: Mapping[bytes, Mapping[int, int]]

    def account(self, address: bytes) -> AccountRecord | None:
        return self.accounts[address]

    def storage(self, address: bytes, slot: int) -> int:
        return self.slots[address][slot]


def _storage_roots(nodes: NodeOverlay, jobs: Iterable[StorageJob], cache: NodeCache) -> StorageRoots:
    roots: dict[bytes, bytes] = {}
    parent_slots: dict[bytes, dict[int, int]] = {}
    for job in jobs:
        with parent_state_required(job.base_root):
            # Each slot's value before the block, as the update finds it (the trie under a
            # cleared account's base root is empty, and so are its values).
            parent_slots[job.address] = {}
            roots[job.address] = storage_root(
                nodes, job.base_root, job.storage, cache, parent_slots[job.address]
            )
    return StorageRoots(roots, nodes.writes, parent_slots)


def compute_storage_roots(
    store: Store, jobs: Iterable[StorageJob], cache: NodeCache | None = None
) -> StorageRoots:
    """Stage B for some accounts, on a store handle of this process (``cache``: decoded trie nodes)."""
    return _storage_roots(NodeOverlay(store), jobs, {} if cache is None else cache)


class MerkleSession:
    """One block's walk and stages C/D, in the process that keeps the walked nodes."""

    def __init__(
        self,
        store: Store,
        parent_root: bytes,
        deltas: Iterable[AccountDelta],
        cache: NodeCache | None = None,
    ) -> None:
        """``cache``: decoded trie nodes, which a long-lived process may keep across blocks."""
        self.parent_root = parent_root
        self.deltas = tuple(deltas)
        self.nodes = NodeOverlay(store)
        self.cache: NodeCache = {} if cache is None else cache
        self.state = PatriciaTrie(self.nodes, parent_root, self.cache)
        self.touched: list[Touched] = []

    def walk(self) -> list[StorageJob]:
        """Read the parent record of every touched account; return the stage-B jobs."""
        with parent_state_required(self.parent_root):
            self.touched = read_parent_accounts(self.state, self.deltas)
        return [
            StorageJob(delta.address, base_storage_root(parent, delta), dict(delta.storage))
            for _, delta, parent in self.touched
            if delta.storage or delta.storage_cleared
        ]

    def finish(
        self, roots: Mapping[bytes, bytes], parent_slots: Mapping[bytes, Mapping[int, int]]
    ) -> MerkleResult:
        """Stages C and D, given every new storage root and parent slot value from stage B."""
        with parent_state_required(self.parent_root):
            accounts = update_accounts(self.state, self.touched, roots)
        writes = state_writes(self.state.root_hash, self.nodes.writes, self.deltas, accounts)
        parent = ParentValues({delta.address: record for _, delta, record in self.touched}, parent_slots)
        flat_changes = FlatChanges.of(writes, parent)
        # Computed and kept here, not in the node's process as it stores the block and moves the flat state.
        _ = flat_changes.encoding, flat_changes.undo_encoding
        return MerkleResult(self.state.root_hash, accounts, self.nodes.writes, flat_changes)

    def run(self) -> MerkleResult:
        """All three steps in this process: walk, stage B on the same node cache, stages C and D."""
        stage_b = _storage_roots(self.nodes, self.walk(), self.cache)
        return self.finish(stage_b.roots, stage_b.parent_slots)
