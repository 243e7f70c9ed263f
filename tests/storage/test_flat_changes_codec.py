"""FlatChanges' direct RLP codec: the bytes pyrlp writes, and a clear error for anything else."""

from __future__ import annotations

import rlp
from hypothesis import given
from hypothesis import strategies as st

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
    assert changes.encode() == rlp.encode([items, cleared])
    assert FlatChanges.decode(changes.encode()) == changes


def test_long_values_use_the_long_forms() -> None:
    changes = FlatChanges(((Space.STORAGE, b"k" * 52, b"v" * 70_000),) * 3, (b"a" * 20,))
    assert FlatChanges.decode(changes.encode()) == changes


@given(WRITES, CLEARED, st.data())
def test_damaged_bytes_never_decode_to_something_else_silently(
    writes: list, cleared: list, data: st.DataObject
) -> None:
    encoded = FlatChanges(tuple(writes), tuple(cleared)).encode()
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
