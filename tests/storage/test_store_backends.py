"""Store basics on both backends: get, iterate (key spaces, prefixes, order) and commit semantics."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_testkit import dump, empty_dump

from storage import Space, Store, StoreClosed, WriteBatch

SPACE_BYTES = [space.value for space in Space]


def put_all(store: Store, items: list[tuple[Space, bytes, bytes]]) -> None:
    batch = WriteBatch()
    for space, key, value in items:
        batch.put(space, key, value)
    store.commit(batch)


def test_key_spaces_are_distinct_single_bytes() -> None:
    assert all(len(prefix) == 1 for prefix in SPACE_BYTES)
    assert len(set(SPACE_BYTES)) == len(SPACE_BYTES)


def test_write_batch_records_prefixed_ops_in_order() -> None:
    batch = WriteBatch()
    batch.put(Space.CODE, b"k", b"v")
    batch.delete(Space.ACCOUNT, b"k")
    assert len(batch.ops) == 2
    assert batch.ops == [(b"ck", b"v"), (b"ak", None)]


def test_put_all_records_what_a_put_per_item_records() -> None:
    items = [(b"k1", b"v1"), (b"k0", b""), (b"k1", b"v2")]
    one_by_one, at_once = WriteBatch(), WriteBatch()
    one_by_one.delete(Space.NODE, b"x")
    at_once.delete(Space.NODE, b"x")
    for key, value in items:
        one_by_one.put(Space.NODE, key, value)
    at_once.put_all(Space.NODE, iter(items))  # any iterable, consumed once
    assert at_once.ops == one_by_one.ops == [(b"nx", None), (b"nk1", b"v1"), (b"nk0", b""), (b"nk1", b"v2")]


def test_commit_refuses_what_put_all_staged_that_is_not_bytes(store: Store) -> None:
    batch = WriteBatch()
    batch.put(Space.META, b"first", b"kept out")
    batch.put_all(Space.NODE, [(b"ok", b"v"), (b"bad", "text")])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        store.commit(batch)
    assert store.get(Space.META, b"first") is None and store.get(Space.NODE, b"ok") is None


def test_fresh_store_is_empty(store: Store) -> None:
    assert store.get(Space.ACCOUNT, b"missing") is None
    assert dump(store) == empty_dump()


def test_get_after_commit(store: Store) -> None:
    put_all(store, [(Space.ACCOUNT, b"\x01" * 20, b"record"), (Space.CODE, b"\x02" * 32, b"\x60\x00")])
    assert store.get(Space.ACCOUNT, b"\x01" * 20) == b"record"
    assert store.get(Space.CODE, b"\x02" * 32) == b"\x60\x00"
    assert store.get(Space.ACCOUNT, b"\x02" * 32) is None
    assert store.get(Space.CODE, b"\x01" * 20) is None


def test_nothing_is_visible_before_commit(store: Store) -> None:
    batch = WriteBatch()
    batch.put(Space.ACCOUNT, b"k", b"v")
    assert store.get(Space.ACCOUNT, b"k") is None
    assert list(store.iterate(Space.ACCOUNT)) == []
    store.commit(batch)
    assert store.get(Space.ACCOUNT, b"k") == b"v"


def test_empty_value_is_stored_and_differs_from_missing(store: Store) -> None:
    put_all(store, [(Space.META, b"empty", b"")])
    assert store.get(Space.META, b"empty") == b""
    assert list(store.iterate(Space.META)) == [(b"empty", b"")]


def test_empty_key_and_binary_keys(store: Store) -> None:
    items = [
        (Space.ACCOUNT, b"", b"empty key"),
        (Space.ACCOUNT, b"\x00", b"nul"),
        (Space.ACCOUNT, b"\x00\x00", b"two nuls"),
        (Space.ACCOUNT, b"\xff" * 40, b"high"),
    ]
    put_all(store, items)
    for space, key, value in items:
        assert store.get(space, key) == value
    assert [k for k, _ in store.iterate(Space.ACCOUNT)] == [b"", b"\x00", b"\x00\x00", b"\xff" * 40]


def test_large_value_round_trips(store: Store) -> None:
    value = random.Random(7).randbytes(2 * 1024 * 1024)
    put_all(store, [(Space.CODE, b"big", value)])
    assert store.get(Space.CODE, b"big") == value


def test_iterate_yields_keys_in_byte_order(store: Store) -> None:
    keys = [bytes([a, b]) for a in (0, 1, 0x7F, 0x80, 0xFF) for b in (0, 0xFF)] + [b"\x01", b"\x80\x00\x00"]
    shuffled = keys[:]
    random.Random(1).shuffle(shuffled)
    put_all(store, [(Space.STORAGE, k, b"v" + k) for k in shuffled])
    assert list(store.iterate(Space.STORAGE)) == [(k, b"v" + k) for k in sorted(keys)]


def test_iterate_never_crosses_into_a_neighbouring_space(store: Store) -> None:
    # 'a' (ACCOUNT) < 'b' (BODY) < 'c' (CODE): the highest ACCOUNT key sorts right
    # before the lowest BODY key, and CODE's empty key is the full key b"c".
    assert Space.ACCOUNT.value < Space.BODY.value < Space.CODE.value
    put_all(
        store,
        [
            (Space.ACCOUNT, b"\xff" * 32, b"last account"),
            (Space.ACCOUNT, b"c", b"account named c"),
            (Space.BODY, b"", b"first body"),
            (Space.BODY, b"\x00", b"body 0"),
            (Space.CODE, b"", b"first code"),
            (Space.CODE, b"\xff", b"code ff"),
            (Space.CANONICAL, b"\x00" * 8, b"hash"),  # 'N' sorts before every lower-case prefix
        ],
    )
    assert list(store.iterate(Space.ACCOUNT)) == [(b"c", b"account named c"), (b"\xff" * 32, b"last account")]
    assert list(store.iterate(Space.BODY)) == [(b"", b"first body"), (b"\x00", b"body 0")]
    assert list(store.iterate(Space.CODE)) == [(b"", b"first code"), (b"\xff", b"code ff")]
    assert list(store.iterate(Space.CANONICAL)) == [(b"\x00" * 8, b"hash")]
    assert list(store.iterate(Space.ACCOUNT, b"\xff")) == [(b"\xff" * 32, b"last account")]
    assert list(store.iterate(Space.ACCOUNT, b"\xff" * 33)) == []
    assert store.get(Space.ACCOUNT, b"c") == b"account named c"
    assert store.get(Space.CODE, b"") == b"first code"
    for space in (Space.NODE, Space.STORAGE, Space.HEADER, Space.RECEIPTS, Space.BAL, Space.META):
        assert list(store.iterate(space)) == []


def test_iterate_with_prefix(store: Store) -> None:
    keys = [b"a", b"ab", b"abc", b"abd", b"ab\xff", b"ac", b"b", b"\x00ab"]
    put_all(store, [(Space.HEADER, k, k.upper()) for k in keys])
    assert [k for k, _ in store.iterate(Space.HEADER, b"ab")] == [b"ab", b"abc", b"abd", b"ab\xff"]
    assert [k for k, _ in store.iterate(Space.HEADER, b"abc")] == [b"abc"]
    assert [k for k, _ in store.iterate(Space.HEADER, b"a")] == [
        b"a",
        b"ab",
        b"abc",
        b"abd",
        b"ab\xff",
        b"ac",
    ]
    assert list(store.iterate(Space.HEADER, b"abz")) == []
    assert list(store.iterate(Space.HEADER, b"zz")) == []
    assert dict(store.iterate(Space.HEADER, b"b")) == {b"b": b"B"}
    # the same prefix in another space sees nothing
    assert list(store.iterate(Space.BODY, b"ab")) == []


def test_delete_in_a_batch(store: Store) -> None:
    put_all(
        store, [(Space.ACCOUNT, b"keep", b"1"), (Space.ACCOUNT, b"drop", b"2"), (Space.CODE, b"drop", b"3")]
    )
    batch = WriteBatch()
    batch.delete(Space.ACCOUNT, b"drop")
    batch.delete(Space.ACCOUNT, b"never existed")
    store.commit(batch)
    assert store.get(Space.ACCOUNT, b"drop") is None
    assert store.get(Space.CODE, b"drop") == b"3"  # same key, other space: untouched
    assert list(store.iterate(Space.ACCOUNT)) == [(b"keep", b"1")]


def test_later_ops_in_one_batch_win(store: Store) -> None:
    put_all(store, [(Space.META, b"existing", b"old")])
    batch = WriteBatch()
    batch.put(Space.META, b"put-put", b"first")
    batch.put(Space.META, b"put-put", b"second")
    batch.put(Space.META, b"put-delete", b"gone")
    batch.delete(Space.META, b"put-delete")
    batch.delete(Space.META, b"delete-put")
    batch.put(Space.META, b"delete-put", b"back")
    batch.put(Space.META, b"existing", b"new")
    batch.delete(Space.META, b"existing")
    batch.put(Space.META, b"existing", b"newest")
    store.commit(batch)
    assert dict(store.iterate(Space.META)) == {
        b"put-put": b"second",
        b"delete-put": b"back",
        b"existing": b"newest",
    }


def test_empty_batch_changes_nothing(store: Store) -> None:
    put_all(store, [(Space.NODE, b"n", b"node")])
    before = dump(store)
    store.commit(WriteBatch())
    assert dump(store) == before


def test_committed_batch_can_be_reused_without_side_effects(store: Store) -> None:
    batch = WriteBatch()
    batch.put(Space.META, b"k", b"v")
    store.commit(batch)
    # the store took a copy: changing the batch afterwards does not reach the store
    batch.ops.append((Space.META.value + b"late", b"x"))
    assert store.get(Space.META, b"late") is None
    assert dict(store.iterate(Space.META)) == {b"k": b"v"}


def test_iterator_sees_a_consistent_view(store: Store) -> None:
    put_all(store, [(Space.ACCOUNT, bytes([i]), b"old") for i in range(4)])
    it = store.iterate(Space.ACCOUNT)
    first = next(it)
    batch = WriteBatch()
    for i in range(4):
        batch.put(Space.ACCOUNT, bytes([i]), b"new")
    store.commit(batch)
    rest = list(it)
    # an iterator started before a commit reads the old snapshot throughout
    assert [first, *rest] == [(bytes([i]), b"old") for i in range(4)]
    assert list(store.iterate(Space.ACCOUNT)) == [(bytes([i]), b"new") for i in range(4)]


def test_context_manager_closes(store: Store) -> None:
    with store as same:
        assert same is store
        put_all(store, [(Space.META, b"k", b"v")])
    with pytest.raises(StoreClosed):
        store.get(Space.META, b"k")


# --- a random sequence of batches against a plain dict -----------------------------

_key = st.binary(min_size=0, max_size=3)  # small, so puts, deletes and prefixes collide
_op = st.tuples(
    st.sampled_from([Space.ACCOUNT, Space.BODY, Space.CODE]), _key, st.none() | st.binary(max_size=4)
)
_batches = st.lists(st.lists(_op, max_size=12), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_batches, prefix=st.binary(max_size=2))
def test_matches_a_dict_model(make_store, batches, prefix) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    model: dict[bytes, bytes] = {}
    for ops in batches:
        batch = WriteBatch()
        for space, key, value in ops:
            if value is None:
                batch.delete(space, key)
                model.pop(space.value + key, None)
            else:
                batch.put(space, key, value)
                model[space.value + key] = value
        store.commit(batch)
    for space in Space:
        expected = sorted((k[1:], v) for k, v in model.items() if k[:1] == space.value)
        assert list(store.iterate(space)) == expected
        assert list(store.iterate(space, prefix)) == [(k, v) for k, v in expected if k.startswith(prefix)]
        for k, v in expected:
            assert store.get(space, k) == v
    store.close()
