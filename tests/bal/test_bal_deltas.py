"""Delta synthesis of bal/: last post-value per field, unset fields, read-only accounts, zeroed slots."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from bal_strategies import FUZZ, account, addr, bal_of, valid_bals
from hypothesis import given

from bal import AccountDelta, BlockAccessList, synthesize_deltas


def only_delta(bal: BlockAccessList) -> AccountDelta:
    deltas = synthesize_deltas(bal)
    assert len(deltas) == 1
    return deltas[0]


def test_last_post_value_wins_for_every_field() -> None:
    delta = only_delta(
        bal_of(
            account(
                1,
                storage={7: [(0, 5), (2, 6), (9, 8)], 8: [(4, 1)]},
                balances=[(0, 100), (1, 90), (3, 70)],
                nonces=[(1, 1), (2, 2), (5, 3)],
                codes=[(1, b"\x60\x01"), (4, b"\x60\x02")],
            )
        )
    )
    assert delta == AccountDelta(address=addr(1), balance=70, nonce=3, code=b"\x60\x02", storage={7: 8, 8: 1})


def test_balance_only_account_leaves_other_fields_unset() -> None:
    delta = only_delta(bal_of(account(1, balances=[(1, 10**18)])))
    assert delta.balance == 10**18
    assert delta.nonce is None
    assert delta.code is None
    assert dict(delta.storage) == {}
    assert not delta.is_noop()


@pytest.mark.parametrize(
    "kwargs, field, value",
    [
        ({"nonces": [(1, 7)]}, "nonce", 7),
        ({"codes": [(1, b"\xef\x01\x00" + b"\x22" * 20)]}, "code", b"\xef\x01\x00" + b"\x22" * 20),
        ({"storage": {3: [(1, 4)]}}, "storage", {3: 4}),
    ],
)
def test_single_field_accounts(kwargs: dict[str, Any], field: str, value: Any) -> None:
    delta = only_delta(bal_of(account(1, **kwargs)))
    for name in ("balance", "nonce", "code"):
        assert getattr(delta, name) == (value if name == field else None)
    assert dict(delta.storage) == (value if field == "storage" else {})


@pytest.mark.parametrize(
    "read_only",
    [account(2), account(2, reads=[1, 2, 3])],
    ids=["address-only", "storage-reads-only"],
)
def test_read_only_accounts_produce_no_delta(read_only: Any) -> None:
    written = account(1, balances=[(1, 1)])
    later = account(3, nonces=[(1, 1)])
    deltas = synthesize_deltas(bal_of(written, read_only, later))
    assert [d.address for d in deltas] == [addr(1), addr(3)]
    assert synthesize_deltas(bal_of(read_only)) == ()


def test_zero_storage_value_is_kept_as_delete() -> None:
    delta = only_delta(bal_of(account(1, storage={1: [(1, 5), (2, 0)], 2: [(1, 9)]}, reads=[3])))
    assert dict(delta.storage) == {1: 0, 2: 9}
    assert 3 not in delta.storage  # reads are not writes


def test_account_whose_only_change_is_a_zeroed_slot_is_not_dropped() -> None:
    delta = only_delta(bal_of(account(1, storage={1: [(1, 0)]})))
    assert dict(delta.storage) == {1: 0}
    assert delta.balance is None and delta.nonce is None and delta.code is None


@pytest.mark.parametrize(
    "kwargs, field, value",
    [
        ({"balances": [(1, 5), (2, 0)]}, "balance", 0),
        ({"nonces": [(1, 0)]}, "nonce", 0),
        ({"codes": [(1, b"\x60\x00"), (2, b"")]}, "code", b""),
    ],
    ids=["balance-to-zero", "nonce-zero", "code-cleared"],
)
def test_falsy_post_values_are_kept(kwargs: dict[str, Any], field: str, value: Any) -> None:
    delta = only_delta(bal_of(account(1, **kwargs)))
    assert getattr(delta, field) == value
    assert getattr(delta, field) is not None


def test_storage_map_is_read_only() -> None:
    delta = only_delta(bal_of(account(1, storage={1: [(1, 1)]})))
    with pytest.raises(TypeError):
        delta.storage[2] = 2  # type: ignore[index]


def _reference_delta(a: Any) -> AccountDelta | None:
    """The delta by definition: the value at the highest blockAccessIndex of each field."""

    def last(changes: Any, attr: str) -> Any:
        return getattr(max(changes, key=lambda c: c.block_access_index), attr) if changes else None

    storage = {sc.slot: last(sc.changes, "post_value") for sc in a.storage_changes}
    delta = AccountDelta(
        address=a.address,
        balance=last(a.balance_changes, "post_balance"),
        nonce=last(a.nonce_changes, "post_nonce"),
        code=last(a.code_changes, "new_code"),
        storage=storage,
    )
    if delta.balance is None and delta.nonce is None and delta.code is None and not storage:
        return None
    return delta


@FUZZ
@given(valid_bals())
def test_deltas_match_reference(bal: BlockAccessList) -> None:
    expected = [d for d in (_reference_delta(a) for a in bal.accounts) if d is not None]
    got = synthesize_deltas(bal)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (g.address, g.balance, g.nonce, g.code, dict(g.storage)) == (
            e.address,
            e.balance,
            e.nonce,
            e.code,
            dict(e.storage),
        )


def _through(bal: BlockAccessList, index: int) -> BlockAccessList:
    """The BAL with every change after ``index`` left out (the reference for ``through_index``)."""
    return BlockAccessList(
        tuple(
            dataclasses.replace(
                a,
                storage_changes=tuple(
                    dataclasses.replace(sc, changes=kept)
                    for sc in a.storage_changes
                    if (kept := tuple(c for c in sc.changes if c.block_access_index <= index))
                ),
                balance_changes=tuple(c for c in a.balance_changes if c.block_access_index <= index),
                nonce_changes=tuple(c for c in a.nonce_changes if c.block_access_index <= index),
                code_changes=tuple(c for c in a.code_changes if c.block_access_index <= index),
            )
            for a in bal.accounts
        )
    )


@FUZZ
@given(valid_bals())
def test_deltas_through_an_index_are_those_of_the_changes_up_to_it(bal: BlockAccessList) -> None:
    indices = {
        c.block_access_index
        for a in bal.accounts
        for c in (*a.balance_changes, *a.nonce_changes, *a.code_changes)
    }
    indices |= {c.block_access_index for a in bal.accounts for sc in a.storage_changes for c in sc.changes}
    for index in sorted(indices | {0}):
        assert synthesize_deltas(bal, through_index=index) == synthesize_deltas(_through(bal, index))
    assert synthesize_deltas(bal, through_index=max(indices, default=0)) == synthesize_deltas(bal)


@FUZZ
@given(valid_bals())
def test_whole_block_deltas_are_synthesized_once_and_kept(bal: BlockAccessList) -> None:
    fresh = BlockAccessList(bal.accounts)  # the same value, nothing kept on it yet
    first = synthesize_deltas(fresh)
    assert synthesize_deltas(fresh) is first
    assert first == synthesize_deltas(BlockAccessList(bal.accounts))
    assert fresh == BlockAccessList(bal.accounts)  # what is kept is no part of the value
