"""merkle/trie.py: batched updates against py-trie's HexaryTrie, one key at a time, as the reference."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from merkle import MissingNode, NodeOverlay, PatriciaTrie
from merkle.trie import MalformedNode, decode_node, ordered_trie_root
from storage import EMPTY_ROOT, MemoryStore

# Keys from few distinct bytes share long prefixes: deep tries, extensions, and
# nodes short enough (< 32 bytes) to be embedded in their parent.
narrow_keys = st.binary(min_size=32, max_size=32).map(lambda b: bytes(x & 0x11 for x in b))
wide_keys = st.binary(min_size=32, max_size=32)
values = st.none() | st.binary(min_size=1, max_size=3) | st.binary(min_size=30, max_size=90)
batches = st.lists(st.dictionaries(narrow_keys | wide_keys, values, max_size=25), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=batches, shared_cache=st.booleans())
def test_batched_updates_give_py_trie_root_and_values(
    batches: list[dict[bytes, bytes | None]], shared_cache: bool
) -> None:
    reference = HexaryTrie({})
    nodes: dict[bytes, bytes] = {}
    cache: dict = {}
    root = EMPTY_ROOT
    content: dict[bytes, bytes] = {}
    for changes in batches:
        for key, value in changes.items():
            if value is None:
                reference.delete(key)
                content.pop(key, None)
            else:
                reference[key] = value
                content[key] = value
        root = PatriciaTrie(nodes, root, cache if shared_cache else None).update(changes)
        assert root == reference.root_hash
        # The nodes written are enough to read every key back, without any cache.
        fresh = PatriciaTrie(dict(nodes), root)
        assert {key: fresh.get(key) for key in content} == content
        for key in changes:
            if key not in content:
                assert fresh.get(key) is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=batches)
def test_an_update_hands_back_exactly_the_values_it_replaced(
    batches: list[dict[bytes, bytes | None]],
) -> None:
    """``update(changes, replaced)``: each changed key's value before, as a fresh read gives it."""
    nodes: dict[bytes, bytes] = {}
    root = EMPTY_ROOT
    for changes in batches:
        before = PatriciaTrie(dict(nodes), root)
        expected = {key: value for key in changes if (value := before.get(key)) is not None}
        replaced: dict[bytes, bytes] = {}
        with_replaced = PatriciaTrie(nodes, root).update(changes, replaced)
        assert replaced == expected
        assert with_replaced == PatriciaTrie(dict(nodes), root).update(changes)
        root = with_replaced


def test_empty_trie_reads_nothing_and_deleting_everything_gives_the_blank_root() -> None:
    nodes: dict[bytes, bytes] = {}
    trie = PatriciaTrie(nodes, EMPTY_ROOT)
    assert trie.get(b"\x01" * 32) is None
    root = trie.update({b"\x01" * 32: b"a", b"\x02" * 32: b"b"})
    assert root != EMPTY_ROOT
    assert PatriciaTrie(nodes, root).update({b"\x01" * 32: None, b"\x02" * 32: None}) == EMPTY_ROOT


def test_an_update_leaves_the_parent_trie_readable() -> None:
    nodes: dict[bytes, bytes] = {}
    parent = PatriciaTrie(nodes, EMPTY_ROOT).update({b"\x01" * 32: b"old"})
    child = PatriciaTrie(nodes, parent).update({b"\x01" * 32: b"new", b"\x03" * 32: b"x"})
    assert PatriciaTrie(nodes, parent).get(b"\x01" * 32) == b"old"
    assert PatriciaTrie(nodes, parent).get(b"\x03" * 32) is None
    assert PatriciaTrie(nodes, child).get(b"\x01" * 32) == b"new"


def test_a_missing_node_raises_the_overlays_error() -> None:
    store = MemoryStore()
    with pytest.raises(MissingNode):
        PatriciaTrie(NodeOverlay(store), b"\x11" * 32).get(b"\x01" * 32)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80",  # not a list
        b"\xc3\x80\x80\x80",  # three items
        b"\xc2\x80",  # the list claims more bytes than there are
        b"\xc5\x82\x20\x01\x80\x80",  # three items, the first a path
        b"\xd1" + b"\x80" * 16 + b"\x01",  # a branch holding a value
    ],
)
def test_malformed_stored_nodes_are_named(raw: bytes) -> None:
    with pytest.raises(MalformedNode):
        decode_node(raw)


@pytest.mark.parametrize("count", [0, 1, 127, 128, 129, 300])
def test_ordered_trie_root_keys_item_i_by_the_rlp_of_i(count: int) -> None:
    items = [bytes([index % 251]) * (1 + index % 40) for index in range(count)]
    reference = HexaryTrie({})
    for index, item in enumerate(items):
        reference[rlp.encode(index)] = item
    assert ordered_trie_root(items) == reference.root_hash
