"""Structural validation and hash check of bal/: one case per EIP-7928 rule, boundaries, properties."""

from __future__ import annotations

from typing import Any

import pytest
from bal_strategies import FUZZ, QUICK, account, addr, bal_of, nested_of, ref_rlp, valid_bals
from eth_hash.auto import keccak
from hypothesis import assume, given
from hypothesis import strategies as st

from bal import (
    AccountChanges,
    BalValidationError,
    BlockAccessList,
    SlotChanges,
    StorageChange,
    check_hash,
    errors,
    validate_structure,
)
from bal.errors import (
    AccountsNotSorted,
    CodeTooLarge,
    DuplicateAccount,
    DuplicateIndex,
    DuplicateRead,
    DuplicateSlot,
    EmptySlotChanges,
    HashMismatch,
    IndexOutOfRange,
    IndicesNotSorted,
    ReadsNotSorted,
    SlotReadAndWritten,
    SlotsNotSorted,
    TooManyItems,
)
from bal.validation import AMSTERDAM_MAX_CODE_SIZE, BAL_ITEM_GAS

# Each case: an offending account placed third (after two valid accounts, so the
# path must carry the right account index), validate_structure kwargs, the
# exception class, and the expected ``where`` relative to that account.
OK1 = account(1, balances=[(1, 10)])
OK2 = account(2, reads=[5])


def third(bad: Any) -> BlockAccessList:
    return bal_of(OK1, OK2, bad)


A2 = "accounts[2]"
# account() takes a dict for storage, which cannot repeat a slot: build that one by hand.
DUP_SLOT = AccountChanges(addr(3), storage_changes=(SlotChanges(9, (StorageChange(1, 1),)),) * 2)
RULE_CASES: list[tuple[str, BlockAccessList, dict[str, Any], type, str]] = [
    ("accounts-not-ascending", bal_of(OK2, OK1), {}, AccountsNotSorted, "accounts[1]"),
    ("accounts-not-ascending-later", bal_of(OK1, account(3), OK2), {}, AccountsNotSorted, "accounts[2]"),
    (
        "duplicate-account",
        bal_of(OK1, OK2, account(2, balances=[(1, 1)])),
        {},
        DuplicateAccount,
        "accounts[2]",
    ),
    (
        "slots-not-ascending",
        third(account(3, storage={5: [(1, 1)], 4: [(1, 1)]})),
        {},
        SlotsNotSorted,
        f"{A2}.storageChanges[1]",
    ),
    ("duplicate-slot", third(DUP_SLOT), {}, DuplicateSlot, f"{A2}.storageChanges[1]"),
    ("reads-not-ascending", third(account(3, reads=[1, 3, 2])), {}, ReadsNotSorted, f"{A2}.storageReads[2]"),
    ("duplicate-read", third(account(3, reads=[1, 2, 2])), {}, DuplicateRead, f"{A2}.storageReads[2]"),
    (
        "storage-indices-not-ascending",
        third(account(3, storage={7: [(2, 1), (1, 1)]})),
        {},
        IndicesNotSorted,
        f"{A2}.storageChanges[0].slotChanges[1]",
    ),
    (
        "storage-duplicate-index",
        third(account(3, storage={7: [(1, 1), (1, 2)]})),
        {},
        DuplicateIndex,
        f"{A2}.storageChanges[0].slotChanges[1]",
    ),
    (
        "balance-indices-not-ascending",
        third(account(3, balances=[(0, 1), (3, 1), (2, 1)])),
        {},
        IndicesNotSorted,
        f"{A2}.balanceChanges[2]",
    ),
    (
        "balance-duplicate-index",
        third(account(3, balances=[(2, 1), (2, 1)])),
        {},
        DuplicateIndex,
        f"{A2}.balanceChanges[1]",
    ),
    (
        "nonce-indices-not-ascending",
        third(account(3, nonces=[(5, 1), (4, 2)])),
        {},
        IndicesNotSorted,
        f"{A2}.nonceChanges[1]",
    ),
    (
        "nonce-duplicate-index",
        third(account(3, nonces=[(5, 1), (5, 2)])),
        {},
        DuplicateIndex,
        f"{A2}.nonceChanges[1]",
    ),
    (
        "code-indices-not-ascending",
        third(account(3, codes=[(5, b""), (4, b"")])),
        {},
        IndicesNotSorted,
        f"{A2}.codeChanges[1]",
    ),
    (
        "code-duplicate-index",
        third(account(3, codes=[(5, b"\x00"), (5, b"\x01")])),
        {},
        DuplicateIndex,
        f"{A2}.codeChanges[1]",
    ),
    (
        "empty-slot-changes",
        third(account(3, storage={1: [(1, 1)], 2: []})),
        {},
        EmptySlotChanges,
        f"{A2}.storageChanges[1].slotChanges",
    ),
    (
        "slot-read-and-written",
        third(account(3, storage={4: [(1, 1)]}, reads=[3, 4])),
        {},
        SlotReadAndWritten,
        f"{A2}.storageReads",
    ),
    (
        "storage-index-out-of-range",
        third(account(3, storage={4: [(1, 1), (4, 1)]})),
        {"tx_count": 2},
        IndexOutOfRange,
        f"{A2}.storageChanges[0].slotChanges[1]",
    ),
    (
        "balance-index-out-of-range",
        third(account(3, balances=[(0, 1), (3, 1), (4, 1)])),
        {"tx_count": 2},
        IndexOutOfRange,
        f"{A2}.balanceChanges[2]",
    ),
    (
        "nonce-index-out-of-range",
        third(account(3, nonces=[(4, 1)])),
        {"tx_count": 2},
        IndexOutOfRange,
        f"{A2}.nonceChanges[0]",
    ),
    (
        "code-index-out-of-range",
        third(account(3, codes=[(9, b"")])),
        {"tx_count": 2},
        IndexOutOfRange,
        f"{A2}.codeChanges[0]",
    ),
    (
        "code-too-large",
        third(account(3, codes=[(1, b""), (2, b"\x00" * (AMSTERDAM_MAX_CODE_SIZE + 1))])),
        {},
        CodeTooLarge,
        f"{A2}.codeChanges[1]",
    ),
    (
        "code-too-large-custom-limit",
        third(account(3, codes=[(1, b"\x00" * 25)])),
        {"max_code_size": 24},
        CodeTooLarge,
        f"{A2}.codeChanges[0]",
    ),
    # 3 addresses + 1 read (OK2) + 2 slots = 6 items; 5 * 2000 gas pays for 5
    (
        "too-many-items",
        third(account(3, storage={1: [(1, 1)]}, reads=[2])),
        {"gas_limit": 5 * BAL_ITEM_GAS + 1999},
        TooManyItems,
        "",
    ),
]


@pytest.mark.parametrize(
    "bal, kwargs, exc_type, where",
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_rule(bal: BlockAccessList, kwargs: dict[str, Any], exc_type: type, where: str) -> None:
    with pytest.raises(exc_type) as info:
        validate_structure(bal, **kwargs)
    exc = info.value
    assert isinstance(exc, BalValidationError)
    assert exc.rule == exc_type.rule and str(exc).startswith(exc_type.rule + ":")
    if exc_type is TooManyItems:
        # a whole-BAL rule: no single entry to point at
        assert exc.where in ("", "accounts")
        assert "6 items" in str(exc) and "exceed 5" in str(exc)
    else:
        assert exc.where == where
        assert f"(at {where})" in str(exc)


def test_rule_cases_cover_every_validation_error() -> None:
    covered = {case[3] for case in RULE_CASES} | {HashMismatch}
    defined = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, BalValidationError) and obj is not BalValidationError
    }
    assert defined == covered


def test_rule_names_are_unique() -> None:
    classes = [o for o in vars(errors).values() if isinstance(o, type) and issubclass(o, errors.BalError)]
    rules = [c.rule for c in classes]
    assert len(rules) == len(set(rules))
    assert all(issubclass(c, ValueError) for c in classes)


# --- boundaries: the accepted side of each limit --------------------------------


@pytest.mark.parametrize(
    "bal, kwargs",
    [
        (bal_of(), {"tx_count": 0, "gas_limit": 0}),
        # index tx_count + 1 is the post-transaction (system) phase
        (third(account(3, balances=[(0, 1), (3, 1)])), {"tx_count": 2}),
        (third(account(3, storage={4: [(0, 1), (3, 0)]})), {"tx_count": 2}),
        (third(account(3, codes=[(1, b"\x00" * AMSTERDAM_MAX_CODE_SIZE)])), {}),
        (third(account(3, codes=[(1, b"\x00" * 24)])), {"max_code_size": 24}),
        (third(account(3, storage={1: [(1, 1)]}, reads=[2])), {"gas_limit": 6 * BAL_ITEM_GAS}),
        (third(account(3, storage={1: [(1, 1)]})), {}),
        (bal_of(account(1), account(2)), {}),  # address-only accounts are fine
    ],
)
def test_limits_accepted(bal: BlockAccessList, kwargs: dict[str, Any]) -> None:
    assert validate_structure(bal, **kwargs) is None


def test_item_count_counts_addresses_and_unique_slots() -> None:
    # 2 written + 3 read slots, with 1 slot in both lists (invalid, but item_count must not double count)
    a = account(1, storage={1: [(1, 1)], 2: [(1, 1)]}, reads=[2, 3, 4])
    assert bal_of(a).item_count() == 1 + 4
    assert bal_of(a, account(2), account(3, reads=[1])).item_count() == 5 + 1 + 2
    assert BlockAccessList().item_count() == 0


# --- properties ---------------------------------------------------------------------


def _max_index(bal: BlockAccessList) -> int:
    idx = [
        c.block_access_index
        for a in bal.accounts
        for changes in (
            a.balance_changes,
            a.nonce_changes,
            a.code_changes,
            *(sc.changes for sc in a.storage_changes),
        )
        for c in changes
    ]
    return max(idx, default=0)


@FUZZ
@given(valid_bals())
def test_valid_bals_pass(bal: BlockAccessList) -> None:
    validate_structure(bal)
    validate_structure(bal, tx_count=max(_max_index(bal) - 1, 0), gas_limit=bal.item_count() * BAL_ITEM_GAS)


@QUICK
@given(valid_bals(min_accounts=1))
def test_one_item_over_gas_limit_fails(bal: BlockAccessList) -> None:
    with pytest.raises(TooManyItems):
        validate_structure(bal, gas_limit=bal.item_count() * BAL_ITEM_GAS - 1)


@QUICK
@given(valid_bals())
def test_index_one_past_bound_fails(bal: BlockAccessList) -> None:
    top = _max_index(bal)
    assume(top >= 2)
    with pytest.raises(IndexOutOfRange):
        validate_structure(bal, tx_count=top - 2)


@QUICK
@given(valid_bals(min_accounts=2), st.data())
def test_swapped_accounts_fail(bal: BlockAccessList, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(bal) - 2))
    accounts = list(bal.accounts)
    accounts[i], accounts[i + 1] = accounts[i + 1], accounts[i]
    with pytest.raises(AccountsNotSorted) as info:
        validate_structure(BlockAccessList(tuple(accounts)))
    assert info.value.where == f"accounts[{i + 1}]"


@QUICK
@given(valid_bals(min_accounts=1), st.data())
def test_repeated_account_fails(bal: BlockAccessList, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(bal) - 1))
    accounts = list(bal.accounts)
    accounts.insert(i, accounts[i])
    with pytest.raises(DuplicateAccount) as info:
        validate_structure(BlockAccessList(tuple(accounts)))
    assert info.value.where == f"accounts[{i + 1}]"


# --- hash -------------------------------------------------------------------------


@FUZZ
@given(valid_bals(), st.integers(0, 255))
def test_check_hash(bal: BlockAccessList, bit: int) -> None:
    right = keccak(ref_rlp(nested_of(bal)))
    assert check_hash(bal, right) is None
    wrong = (int.from_bytes(right, "big") ^ (1 << bit)).to_bytes(32, "big")
    with pytest.raises(HashMismatch) as info:
        check_hash(bal, wrong)
    assert right.hex() in str(info.value) and wrong.hex() in str(info.value)


def test_check_hash_of_other_bal_fails() -> None:
    a, b = bal_of(account(1)), bal_of(account(2))
    with pytest.raises(HashMismatch):
        check_hash(a, keccak(ref_rlp(nested_of(b))))
    with pytest.raises(HashMismatch):
        check_hash(a, b"")
