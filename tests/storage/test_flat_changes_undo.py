"""FlatChanges.of keeps each write's parent value, and applying with it is applying without it.

The block just imported hands fork choice its changes with the parent values
it was computed against (``FlatChanges.before``), so the flat-state move
takes its undo from them instead of reading every key. Over random parent
states and random block writes (accounts created, changed and removed; slots
set, changed and zeroed; some accounts' storage cleared), the move must stage
the same writes and return the same undo as the one that reads the store.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import (
    EMPTY_ROOT,
    AccountRecord,
    FlatChanges,
    FlatState,
    FlatStateEditor,
    MemoryStore,
    Space,
    StateWrites,
    WriteBatch,
)

ADDRESSES = [bytes([n]) * 20 for n in range(1, 7)]
SLOTS = st.integers(min_value=0, max_value=5)
VALUES = st.sampled_from([0, 0, 1, 2, 2**255])
RECORDS = st.one_of(
    st.none(),
    st.builds(
        AccountRecord,
        nonce=st.integers(min_value=0, max_value=3),
        balance=st.integers(min_value=0, max_value=3),
        # a non-empty storage root marks an account with storage: a clear then has slots to list
        storage_root=st.sampled_from([EMPTY_ROOT, b"\x01" * 32]),
    ),
)


def _state_writes(accounts: dict, storage: dict, cleared: frozenset[bytes] = frozenset()) -> StateWrites:
    return StateWrites(
        state_root=b"\x00" * 32, nodes={}, accounts=accounts, storage=storage, code={}, cleared=cleared
    )


@settings(max_examples=200, deadline=None)
@given(
    parent_accounts=st.dictionaries(st.sampled_from(ADDRESSES), RECORDS.filter(lambda r: r is not None)),
    parent_storage=st.dictionaries(st.sampled_from(ADDRESSES), st.dictionaries(SLOTS, VALUES)),
    block_accounts=st.dictionaries(st.sampled_from(ADDRESSES), RECORDS),
    block_storage=st.dictionaries(st.sampled_from(ADDRESSES), st.dictionaries(SLOTS, VALUES)),
    cleared=st.frozensets(st.sampled_from(ADDRESSES), max_size=2),
)
def test_the_undo_from_parent_values_is_the_undo_read_from_the_store(
    parent_accounts: dict, parent_storage: dict, block_accounts: dict, block_storage: dict, cleared: frozenset
) -> None:
    store = MemoryStore()
    seed = WriteBatch()
    _state_writes(parent_accounts, parent_storage).stage(seed, FlatState(store))
    store.commit(seed)
    changes = FlatChanges.of(_state_writes(block_accounts, block_storage, cleared), FlatState(store))
    if changes.cleared:
        assert changes.before is None  # a clear's slots are listed from the store when applied
    else:
        assert changes.before is not None
        assert changes.before == tuple(store.get(space, key) for space, key, _ in changes.writes)

    with_before, without_before = WriteBatch(), WriteBatch()
    undo_encoding = FlatStateEditor(store, with_before).apply(changes)
    read_undo_encoding = FlatStateEditor(store, without_before).apply(FlatChanges.decode(changes.encoding))
    assert undo_encoding == read_undo_encoding
    undo = FlatChanges.decode(undo_encoding)
    assert with_before.ops == without_before.ops
    assert all(space in (Space.ACCOUNT, Space.STORAGE) for space, _, _ in undo.writes)
