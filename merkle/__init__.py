"""Tries over the store and the merkleization stages (B: storage roots, C: accounts, D: root)."""

from .nodes import MissingNode, NodeOverlay
from .stages import ParentStateMissing, merkleize

__all__ = ["MissingNode", "NodeOverlay", "ParentStateMissing", "merkleize"]
