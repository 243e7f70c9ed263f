"""Trie node access: read through to the store, collect writes aside.

The trie (:class:`~merkle.trie.PatriciaTrie`) writes every node it creates
into the mapping it is given. Handing it this overlay instead keeps the store
untouched while a block is merkleized: new nodes pile up in ``writes`` and
reach the store only when the block commits, in the block's one batch. The
parent's nodes are never modified (tries are content-addressed and nothing is
deleted), so siblings can build on the same parent root.

Nodes read are not kept here: the trie keeps them decoded in its node cache,
so each stored node is fetched once per cache (pipeline.md §3, "walk each trie
path once").
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from storage import Space, Store


class MissingNode(KeyError):
    """A trie node the parent state should contain is not in the store."""


class NodeOverlay(MutableMapping[bytes, bytes]):
    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes: dict[bytes, bytes] = {}

    def __getitem__(self, node_hash: bytes) -> bytes:
        node = self.writes.get(node_hash) or self.store.get(Space.NODE, node_hash)
        if node is None:
            raise MissingNode(node_hash)
        return node

    def __setitem__(self, node_hash: bytes, node: bytes) -> None:
        self.writes[node_hash] = node

    def __delitem__(self, node_hash: bytes) -> None:
        # Never delete: stored nodes may belong to other states.
        raise TypeError("the node overlay does not delete trie nodes")

    def __contains__(self, node_hash: object) -> bool:
        return node_hash in self.writes or (
            isinstance(node_hash, bytes) and self.store.get(Space.NODE, node_hash) is not None
        )

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.writes)

    def __len__(self) -> int:
        return len(self.writes)
