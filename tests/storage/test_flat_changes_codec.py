"""FlatChanges' direct RLP codec: the bytes pyrlp writes, and a clear error for anything else."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from bal.rlp_items import MAX_DEPTH, rlp_list
from storage import FlatChanges, Space
from storage.flat_changes import FlatChangesCorrupt

KEYS = st.binary(min_size=20, max_size=52)
VALUES = st.none() | st.binary(max_size=120)
WRITES = st.lists(st.tuples(st.sampled_from([Space.ACCOUNT, Space.STORAGE]), KEYS, VALUES), max_size=40)
CLEARED = st.lists(st.binary(min_size=20, max_size=20), max_size=5)


@given(WRITES, CLEARED)
def test_encoding_is_pyrlps_and_decodes_back(writes: list, cleared: list) -> None:
    changes = FlatChanges(tuple(writes), tuple(cleared))
    items = [
        [space.value, key] if value is None else [space.value, key, value] for space, key, value in writes
    ]
    assert changes.encoding == rlp.encode([items, cleared])
    assert FlatChanges.decode(changes.encoding) == changes


def test_long_values_use_the_long_forms() -> None:
    changes = FlatChanges(((Space.STORAGE, b"k" * 52, b"v" * 70_000),) * 3, (b"a" * 20,))
    assert FlatChanges.decode(changes.encoding) == changes


@given(WRITES, CLEARED, st.data())
def test_damaged_bytes_never_decode_to_something_else_silently(
    writes: list, cleared: list, data: st.DataObject
) -> None:
    encoded = FlatChanges(tuple(writes), tuple(cleared)).encoding
    cut = data.draw(st.integers(0, len(encoded) - 1))
    try:
        FlatChanges.decode(encoded[:cut])
    except FlatChangesCorrupt:
        return
    raise AssertionError("a truncated encoding decoded")


def test_wrong_shapes_are_refused() -> None:
    for shape in ([], [[], [], []], [[[b"a"]], []], [[[b"z", b"k" * 20]], []], [[], [[b"x"]]], b"flat"):
        try:
            FlatChanges.decode(rlp.encode(shape))
        except FlatChangesCorrupt:
            continue
        raise AssertionError(f"decoded {shape!r}")


def _nested_lists(depth: int) -> bytes:
    data = b"\xc0"
    for _ in range(depth - 1):
        data = rlp_list([data])
    return data


NOT_CANONICAL = [
    ("trailing-bytes", rlp.encode([[], []]) + b"\x00"),
    ("single-byte-with-prefix", b"\xc4\xc0\xc2\x81\x05"),  # cleared = [b"\x05"] written as 0x81 0x05
    ("long-form-for-short-list", b"\xf8\x02\xc0\xc0"),
    ("cut-off", rlp.encode([[[b"\x01", b"k" * 20, b"v"]], []])[:-1]),
    ("empty", b""),
    ("nested-past-the-readers-limit", _nested_lists(MAX_DEPTH + 1)),
]


@pytest.mark.parametrize("data", [case[1] for case in NOT_CANONICAL], ids=[case[0] for case in NOT_CANONICAL])
def test_bytes_that_are_not_canonical_rlp_are_corrupt(data: bytes) -> None:
    with pytest.raises(FlatChangesCorrupt):
        FlatChanges.decode(data)


def test_deep_nesting_is_corrupt_not_a_recursion_error() -> None:
    nested_writes = rlp_list([rlp_list([_nested_lists(50)]), rlp_list([])])
    with pytest.raises(FlatChangesCorrupt, match="a write is"):
        FlatChanges.decode(nested_writes)  # well-formed RLP, wrong shape
    with pytest.raises(FlatChangesCorrupt, match="deeper than"):
        FlatChanges.decode(_nested_lists(2 * MAX_DEPTH))
