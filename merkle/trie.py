"""The Merkle-Patricia trie of the state and of each account's storage, updated in batches.

Why not py-trie's ``HexaryTrie`` (still the tests' independent reference): it
applies one key at a time, so every update re-encodes and re-hashes each node
from the root down to its key, through generic RLP and node validation. On a
bench-chain block (281 accounts, 269 slots) that was about 180 ms of the
merkleizer's time, as long as executing the block. Here a block's changes to
one trie are applied in one descent in key order (pipeline.md §3, "sort
before you insert"): each node on the touched paths is decoded once, each
node that changes is encoded and hashed once, and untouched subtrees are kept
by reference without being read.

No key is a prefix of another (state and storage keys are 32-byte hashes; a
block's lists are keyed by RLP-encoded indices, which are prefix-free too), so
values live only in leaves: a branch's value slot is always empty. Paths are
kept as strings of hex nibbles.

A *reference* to a child node is what its parent's RLP holds: ``b""`` for
none, the 32-byte hash of a node whose encoding is 32 bytes or longer, else
the node's own (inline) encoding. Decoded nodes always hold references; nodes
built during an update hold new node objects until they are encoded. Decoded
nodes are cached by hash in a dict the caller may keep across blocks (nodes
are content-addressed, so a cached node is never stale) and are never
modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import TypeVar

from eth_hash.auto import keccak
from rlp.codec import length_prefix

from bal.rlp_items import rlp_int, rlp_string
from storage import EMPTY_ROOT


class Leaf:
    __slots__ = ("path", "value")

    def __init__(self, path: str, value: bytes) -> None:
        self.path = path
        self.value = value


class Extension:
    __slots__ = ("path", "child")

    def __init__(self, path: str, child: Child) -> None:
        self.path = path
        self.child = child


class Branch:
    __slots__ = ("children",)

    def __init__(self, children: list[Child]) -> None:
        self.children = children


Node = Leaf | Extension | Branch
# A reference (bytes) or, while an update builds it, the new node itself.
Child = bytes | Node
NodeCache = dict[bytes, Node]
# The most decoded nodes a process keeps across blocks before it drops them all and reads
# afresh: a few hundred MB (a full branch node is about 1.3 kB).
NODE_CACHE_LIMIT = 300_000


class MalformedNode(ValueError):
    """A stored trie node is not a valid RLP leaf, extension or branch."""


# --- RLP, for the three node shapes only -------------------------------------


def _embed(ref: bytes) -> bytes:
    """A child reference as an item of its parent's RLP list."""
    if len(ref) == 32:
        return b"\xa0" + ref
    return ref or b"\x80"


def _items(raw: bytes) -> list[bytes]:
    """The items of an RLP list: a string item as its payload, a list item as its whole encoding."""
    if not raw or raw[0] < 0xC0:
        raise MalformedNode(f"trie node is not an RLP list: 0x{raw[:40].hex()}")
    first = raw[0]
    if first <= 0xF7:
        position, end = 1, 1 + first - 0xC0
    else:
        size = first - 0xF7
        position = 1 + size
        end = position + int.from_bytes(raw[1:position], "big")
    if end != len(raw):
        raise MalformedNode(f"trie node has {len(raw)} bytes, its RLP says {end}")
    items = []
    while position < end:
        first = raw[position]
        if first < 0x80:
            items.append(raw[position : position + 1])
            position += 1
        elif first <= 0xB7:
            length = first - 0x80
            items.append(raw[position + 1 : position + 1 + length])
            position += 1 + length
        elif first < 0xC0:
            size = first - 0xB7
            start = position + 1 + size
            length = int.from_bytes(raw[position + 1 : start], "big")
            items.append(raw[start : start + length])
            position = start + length
        else:
            if first <= 0xF7:
                length = 1 + first - 0xC0
            else:
                size = first - 0xF7
                length = 1 + size + int.from_bytes(raw[position + 1 : position + 1 + size], "big")
            items.append(raw[position : position + length])
            position += length
    if position != end:
        raise MalformedNode("trie node's last item runs past its end")
    return items


def _hex_prefix(path: str, leaf: bool) -> bytes:
    """The compact (hex-prefix) encoding of a nibble path (Yellow Paper, appendix C)."""
    flag = 2 if leaf else 0
    if len(path) % 2:
        return bytes.fromhex(f"{flag + 1:x}{path}")
    return bytes.fromhex(f"{flag:x}0{path}")


def decode_node(raw: bytes) -> Node:
    items = _items(raw)
    if len(items) == 17:
        if items[16]:
            raise MalformedNode("branch node holds a value (keys here are prefix-free)")
        children: list[Child] = list(items[:16])
        return Branch(children)
    if len(items) != 2 or not items[0]:
        raise MalformedNode(f"trie node has {len(items)} items")
    flag = items[0][0] >> 4
    nibbles = items[0].hex()
    path = nibbles[1:] if flag & 1 else nibbles[2:]
    return Leaf(path, items[1]) if flag & 2 else Extension(path, items[1])


# --- building subtrees ---------------------------------------------------------


def _common_prefix_length(a: str, b: str, start: int) -> int:
    end = min(len(a), len(b))
    position = start
    while position < end and a[position] == b[position]:
        position += 1
    return position - start


def _build(items: list[tuple[str, bytes]], depth: int) -> Node | None:
    """A new subtree holding ``items`` (sorted, distinct keys), below ``depth`` nibbles; None if empty."""
    return _subtree(items, depth) if items else None


def _subtree(items: list[tuple[str, bytes]], depth: int) -> Node:
    """:func:`_build` for at least one item."""
    if len(items) == 1:
        key, value = items[0]
        return Leaf(key[depth:], value)
    shared = _common_prefix_length(items[0][0], items[-1][0], depth)
    if shared:
        return Extension(items[0][0][depth : depth + shared], _subtree(items, depth + shared))
    children: list[Child] = [b""] * 16
    for nibble, group in _groups(items, depth):
        children[nibble] = _subtree(group, depth + 1)
    return Branch(children)


Value = TypeVar("Value")


def _groups(items: list[tuple[str, Value]], depth: int) -> list[tuple[int, list[tuple[str, Value]]]]:
    """Sorted items split by their key's nibble at ``depth`` (each group holds at least one)."""
    groups = []
    start = 0
    while start < len(items):
        nibble = items[start][0][depth]
        end = start + 1
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        groups.append((int(nibble, 16), items[start:end]))
        start = end
    return groups


def _joined(path: str, child: Node) -> Node:
    """``Extension(path, child)`` in canonical form (an extension never points at a leaf or extension)."""
    if isinstance(child, Leaf):
        return Leaf(path + child.path, child.value)
    if isinstance(child, Extension):
        return Extension(path + child.path, child.child)
    return Extension(path, child)


class PatriciaTrie:
    """One trie under ``root_hash``: reads, and batched updates that write new nodes into ``nodes``."""

    def __init__(
        self, nodes: MutableMapping[bytes, bytes], root_hash: bytes, cache: NodeCache | None = None
    ) -> None:
        """``nodes``: hash -> encoded node (a :class:`~merkle.nodes.NodeOverlay` keeps writes aside);
        a missing node raises whatever ``nodes`` raises. ``cache``: decoded nodes by hash."""
        self.nodes = nodes
        self.root_hash = root_hash
        self.cache: NodeCache = {} if cache is None else cache
        # During :meth:`update`: where the changed keys' values before it go (None: nowhere).
        self._replaced: dict[str, bytes] | None = None

    def _resolve(self, child: Child) -> Node | None:
        if not isinstance(child, bytes):
            return child
        if len(child) == 32:
            node = self.cache.get(child)
            if node is None:
                node = self.cache[child] = decode_node(self.nodes[child])
            return node
        return decode_node(child) if child else None

    def _root(self) -> Node | None:
        return None if self.root_hash == EMPTY_ROOT else self._resolve(self.root_hash)

    def get(self, key: bytes) -> bytes | None:
        """The value under ``key``, or None."""
        path = key.hex()
        depth = 0
        node = self._root()
        while node is not None:
            if isinstance(node, Leaf):
                return node.value if node.path == path[depth:] else None
            if isinstance(node, Extension):
                if not path.startswith(node.path, depth):
                    return None
                depth += len(node.path)
                node = self._resolve(node.child)
            else:
                node = self._resolve(node.children[int(path[depth], 16)])
                depth += 1
        return None

    def update(
        self, changes: Mapping[bytes, bytes | None], replaced: dict[bytes, bytes] | None = None
    ) -> bytes:
        """Set each key to its value (None deletes it); write the new nodes; return the new root.

        ``replaced``: filled with the value each changed key held before (a key
        the trie did not hold is left out). The descent reaches every such
        key's leaf anyway, so this costs no second walk down the trie, as a
        :meth:`get` per key before the update would.
        """
        if not changes:
            return self.root_hash
        ordered = sorted((key.hex(), value) for key, value in changes.items())
        self._replaced = None if replaced is None else {}
        try:
            root = self._apply(self._root(), ordered, 0)
            if replaced is not None and self._replaced:
                replaced.update((bytes.fromhex(key), value) for key, value in self._replaced.items())
        finally:
            self._replaced = None
        if root is None:
            self.root_hash = EMPTY_ROOT
        else:
            raw = self._encode(root)
            self.root_hash = keccak(raw)
            self.nodes[self.root_hash] = raw
            self.cache[self.root_hash] = root
        return self.root_hash

    def _apply(self, node: Node | None, changes: list[tuple[str, bytes | None]], depth: int) -> Node | None:
        """The subtree ``node`` (below ``depth`` nibbles) with ``changes`` (sorted) applied."""
        if node is None:
            return _build([(key, value) for key, value in changes if value is not None], depth)
        if isinstance(node, Leaf):
            held = changes[0][0][:depth] + node.path
            if self._replaced is not None and any(key == held for key, _ in changes):
                self._replaced[held] = node.value
            merged: dict[str, bytes | None] = {held: node.value}
            merged.update(changes)
            return _build(sorted((k, v) for k, v in merged.items() if v is not None), depth)
        if isinstance(node, Extension):
            end = depth + len(node.path)
            if changes[0][0][depth:end] == node.path and changes[-1][0][depth:end] == node.path:
                child = self._apply(self._resolve(node.child), changes, end)
                return None if child is None else _joined(node.path, child)
            # Some key leaves the extension's path: the same subtree as a branch, then updated.
            rest = node.child if len(node.path) == 1 else Extension(node.path[1:], node.child)
            children: list[Child] = [b""] * 16
            children[int(node.path[0], 16)] = rest
            return self._apply(Branch(children), changes, depth)
        children = list(node.children)
        for nibble, group in _groups(changes, depth):
            updated = self._apply(self._resolve(children[nibble]), group, depth + 1)
            children[nibble] = b"" if updated is None else updated
        live = [nibble for nibble, child in enumerate(children) if not isinstance(child, bytes) or child]
        if not live:
            return None
        if len(live) > 1:
            return Branch(children)
        # One child left: the branch folds into it.
        only = children[live[0]]
        resolved = self._resolve(only)
        assert resolved is not None, "a live child is a node or a reference to one"
        if isinstance(resolved, Branch):
            return Extension(f"{live[0]:x}", only)  # keep the stored child by reference
        return _joined(f"{live[0]:x}", resolved)

    def _encode(self, node: Node) -> bytes:
        """``node``'s RLP; new children are encoded first and replaced by their references."""
        # rlp_string, not pyrlp's encode_raw: its ABC instance checks were a tenth of a
        # bench block's merkleization.
        if isinstance(node, Leaf):
            payload = rlp_string(_hex_prefix(node.path, True)) + rlp_string(node.value)
        elif isinstance(node, Extension):
            node.child = self._reference(node.child)
            payload = rlp_string(_hex_prefix(node.path, False)) + _embed(node.child)
        else:
            references = [self._reference(child) for child in node.children]
            node.children = list(references)
            payload = b"".join([_embed(reference) for reference in references]) + b"\x80"
        prefix: bytes = length_prefix(len(payload), 0xC0)
        return prefix + payload

    def _reference(self, child: Child) -> bytes:
        if isinstance(child, bytes):
            return child
        raw = self._encode(child)
        if len(raw) < 32:
            return raw
        node_hash = keccak(raw)
        self.nodes[node_hash] = raw
        self.cache[node_hash] = child
        return node_hash


def ordered_trie_root(encoded_items: Iterable[bytes]) -> bytes:
    """The root of a block's list (transactions, receipts, withdrawals): item i under key rlp(i).

    Used instead of py-evm's ``make_trie_root_and_nodes``, which builds the
    trie with py-trie one key at a time and memoizes results process-wide: a
    second import of the same blocks (import-bench's second run) would find
    its roots cached and look faster than it is.
    """
    changes: dict[bytes, bytes | None] = {rlp_int(index): item for index, item in enumerate(encoded_items)}
    return PatriciaTrie({}, EMPTY_ROOT).update(changes)
