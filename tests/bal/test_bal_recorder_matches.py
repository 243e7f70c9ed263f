"""BalRecorder.matches against the definition it replaces: ``recorder.build() == bal``.

Every block that comes with a BAL is checked with ``matches`` (the built BAL
is only made when they differ), so it must agree with building and comparing
for every recorder and every BAL: the BAL it builds (an equal copy, not the
same object), that BAL edited in every one place it can be (the edits a wrong BAL
would have: an entry dropped, repeated, moved or changed), and unrelated BALs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bal_strategies import FUZZ, addr, raw_bals, valid_bals
from hypothesis import given
from hypothesis import strategies as st

from bal import decode_bal, encode_bal
from bal.recorder import BalRecorder
from bal.types import AccountChanges, BlockAccessList, SlotChanges

ADDRESSES = tuple(addr(n) for n in range(1, 5))
SLOTS = (0, 1, 2)
SMALL = st.integers(0, 2)


@dataclass(frozen=True)
class Account:
    balance: int
    nonce: int
    code_hash: bytes


accounts = st.builds(Account, SMALL, SMALL, st.sampled_from([b"\x01" * 32, b"\x02" * 32]))
units = st.fixed_dictionaries(
    {
        "accounts": st.dictionaries(st.sampled_from(ADDRESSES), st.tuples(accounts, accounts), max_size=3),
        "storage": st.dictionaries(
            st.tuples(st.sampled_from(ADDRESSES), st.sampled_from(SLOTS)), st.tuples(SMALL, SMALL), max_size=4
        ),
        "destroyed": st.sets(st.sampled_from(ADDRESSES), max_size=1),
        "touched": st.sets(st.sampled_from(ADDRESSES), max_size=2),
        "reads": st.sets(st.tuples(st.sampled_from(ADDRESSES), st.sampled_from(SLOTS)), max_size=3),
    }
)


@st.composite
def recorders(draw: st.DrawFn) -> BalRecorder:
    """A recorder fed unit by unit, as the account database feeds it, over a few addresses and slots."""
    recorder = BalRecorder()
    for index, unit in enumerate(draw(st.lists(units, min_size=1, max_size=5))):
        recorder.touched |= unit["touched"]
        recorder.reads |= unit["reads"]
        recorder.record_unit(
            index, unit["accounts"], unit["storage"], lambda code_hash: code_hash[:1] * 3, unit["destroyed"]
        )
    return recorder


LIST_FIELDS = ("storage_changes", "storage_reads", "balance_changes", "nonce_changes", "code_changes")


def _tuple_edits(
    items: tuple[Any, ...], item_edits: Callable[[Any], Iterator[Any]]
) -> Iterator[tuple[Any, ...]]:
    """``items`` with one entry dropped, repeated, moved to the end, or replaced by one of its edits."""
    for where, item in enumerate(items):
        before, after = items[:where], items[where + 1 :]
        yield before + after
        yield before + (item, item) + after
        yield before + after + (item,)
        for edited in item_edits(item):
            yield before + (edited,) + after


def _item_edits(item: Any) -> Iterator[Any]:
    """A read slot, a slot, a change's index or value, each moved by one (and a slot's changes edited)."""
    if isinstance(item, int):
        yield item - 1
        yield item + 1
        return
    if isinstance(item, SlotChanges):
        yield replace(item, slot=item.slot + 1)
        for changes in _tuple_edits(item.changes, _item_edits):
            yield replace(item, changes=changes)
        return
    index_name, value_name = item.__dataclass_fields__
    yield replace(item, **{index_name: getattr(item, index_name) + 1})
    value = getattr(item, value_name)
    yield replace(item, **{value_name: value + b"\x00" if isinstance(value, bytes) else value + 1})


def _account_edits(account: AccountChanges) -> Iterator[AccountChanges]:
    yield replace(account, address=addr(int.from_bytes(account.address, "big") + 1))
    for field in LIST_FIELDS:
        for edited in _tuple_edits(getattr(account, field), _item_edits):
            yield replace(account, **{field: edited})


def single_edits(bal: BlockAccessList) -> Iterator[BlockAccessList]:
    """Every BAL one edit away from ``bal`` (moving the last entry to the end leaves it equal)."""
    for accounts in _tuple_edits(bal.accounts, _account_edits):
        yield BlockAccessList(accounts)


@FUZZ
@given(recorder=recorders(), unrelated=st.one_of(valid_bals(), raw_bals))
def test_matches_is_build_then_compare(recorder: BalRecorder, unrelated: BlockAccessList) -> None:
    built = recorder.build()
    copy = decode_bal(encode_bal(built))
    assert copy is not built and copy == built
    assert recorder.matches(copy)
    for edited in single_edits(built):
        assert recorder.matches(edited) == (edited == built), edited
    assert recorder.matches(unrelated) == (unrelated == built)


def test_matches_sees_a_read_listed_as_written() -> None:
    """A slot both read and changed is listed once, as a change: listing it as a read too differs."""
    a = addr(1)
    recorder = BalRecorder()
    recorder.record_unit(1, {}, {(a, 5): (0, 7)}, bytes)
    built = recorder.build()
    assert recorder.matches(built)
    doubled = BlockAccessList((replace(built.accounts[0], storage_reads=(5,)),))
    assert not recorder.matches(doubled)
    assert built != doubled


def test_matches_refuses_an_account_not_recorded() -> None:
    recorder = BalRecorder()
    recorder.touched.add(addr(1))
    assert recorder.matches(BlockAccessList((AccountChanges(addr(1)),)))
    assert not recorder.matches(BlockAccessList((AccountChanges(addr(2)),)))
    assert not recorder.matches(BlockAccessList((AccountChanges(addr(1)), AccountChanges(addr(1)))))
    assert not recorder.matches(BlockAccessList())
