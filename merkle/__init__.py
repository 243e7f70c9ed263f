"""Tries over the store and the merkleization stages (B: storage roots, C: accounts, D: root)."""

from .nodes import MissingNode, NodeOverlay
from .stages import ParentStateMissing, merkleize
from .trie import NODE_CACHE_LIMIT, NodeCache, PatriciaTrie, ordered_trie_root

__all__ = [
    "NODE_CACHE_LIMIT",
    "MissingNode",
    "NodeCache",
    "NodeOverlay",
    "ParentStateMissing",
    "PatriciaTrie",
    "merkleize",
    "ordered_trie_root",
]
