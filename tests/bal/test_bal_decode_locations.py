"""decode_bal: round trips, and every error's `where` names an item that breaks the error's rule.

The error paths one by one are in test_bal_rlp.py; here the locations are
checked against the wire tree for arbitrary damage, and for errors deeper in a
BAL than the first entry of each list.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import rlp
from bal_strategies import FUZZ, byte_mutations, mutated_trees, nested_lists, valid_bals
from hypothesis import given
from hypothesis import strategies as st

from bal import BalDecodeError, decode_bal, encode_bal
from bal.errors import BadAddress, IntegerTooWide, MalformedRlp, NonCanonicalInteger, WrongShape
from bal.types import ADDRESS_BYTES, INDEX_BYTES, NONCE_BYTES, VALUE_BYTES

# Where each named field sits in its wire list (EIP-7928 order).
FIELD_POSITIONS = {
    "address": 0,
    "storageChanges": 1,
    "storageReads": 2,
    "balanceChanges": 3,
    "nonceChanges": 4,
    "codeChanges": 5,
    "slot": 0,
    "slotChanges": 1,
    "blockAccessIndex": 0,
    "postValue": 1,
    "postBalance": 1,
    "postNonce": 1,
    "newCode": 1,
}
INTEGER_WIDTHS = {
    "slot": VALUE_BYTES,
    "storageReads": VALUE_BYTES,
    "blockAccessIndex": INDEX_BYTES,
    "postValue": VALUE_BYTES,
    "postBalance": VALUE_BYTES,
    "postNonce": NONCE_BYTES,
}
_STEP = re.compile(r"\[(\d+)\]|\.(\w+)")


def item_at(tree: Any, where: str) -> tuple[Any, str]:
    """The wire item ``where`` names in ``tree`` (the top list), and the last field name on its way."""
    assert where.startswith("accounts")
    rest = where[len("accounts") :]
    steps = list(_STEP.finditer(rest))
    assert "".join(step.group(0) for step in steps) == rest, f"unparsable location {where!r}"
    item, field = tree, "accounts"
    for step in steps:
        index, name = step.groups()
        if name is None:
            item = item[int(index)]
        else:
            item, field = item[FIELD_POSITIONS[name]], name
    return item, field


def assert_names_a_culprit(data: bytes) -> None:
    """decode_bal accepts ``data``, or its error's `where` points at an item that breaks the error's rule."""
    try:
        decode_bal(data)
    except MalformedRlp:
        with pytest.raises(rlp.exceptions.DecodingError):
            rlp.decode(data, strict=True)
        return
    except BalDecodeError as error:
        culprit, field = item_at(rlp.decode(data, strict=True), error.where)
        assert_breaks(error, culprit, field)
        return
    assert encode_bal(decode_bal(data)) == data


def assert_breaks(error: BalDecodeError, culprit: Any, field: str) -> None:
    if isinstance(error, WrongShape):
        if "expected a list" in str(error):
            assert isinstance(culprit, bytes)
        elif "expected a byte string" in str(error):
            assert isinstance(culprit, list)
        else:
            wanted, found = map(int, re.findall(r"expected (\d+) items, found (\d+)", str(error))[0])
            assert isinstance(culprit, list) and len(culprit) == found != wanted
    elif isinstance(error, NonCanonicalInteger):
        assert isinstance(culprit, bytes) and culprit[:1] == b"\x00"
    elif isinstance(error, IntegerTooWide):
        assert isinstance(culprit, bytes) and len(culprit) > INTEGER_WIDTHS[field]
    elif isinstance(error, BadAddress):
        assert field == "address" and isinstance(culprit, bytes) and len(culprit) != ADDRESS_BYTES
    else:
        pytest.fail(f"unexpected error class {type(error).__name__}")


@FUZZ
@given(valid_bals(min_accounts=1, max_accounts=8))
def test_decoded_bal_keeps_its_input_as_its_rlp(bal: Any) -> None:
    data = encode_bal(bal)
    decoded = decode_bal(data)
    assert decoded == bal and decoded._rlp == data
    assert encode_bal(decoded) == data


@FUZZ
@given(mutated_trees())
def test_tree_damage_is_located_at_a_culprit(tree: Any) -> None:
    assert_names_a_culprit(rlp.encode(tree))


@FUZZ
@given(st.data())
def test_byte_damage_is_located_at_a_culprit(data: st.DataObject) -> None:
    original = encode_bal(data.draw(valid_bals(min_accounts=1, max_accounts=3)))
    assert_names_a_culprit(data.draw(byte_mutations(original)))


def three_accounts() -> list[Any]:
    """The wire tree of three accounts with two entries in every list."""
    return [
        [
            bytes([n]) * 20,
            [[b"\x01", [[b"\x01", b"\x05"], [b"\x02", b"\x06"]]], [b"\x02", [[b"\x01", b"\x07"]]]],
            [b"\x03", b"\x04"],
            [[b"\x01", b"\x09"], [b"\x02", b"\x0a"]],
            [[b"\x01", b"\x01"], [b"\x02", b"\x02"]],
            [[b"\x01", b"\x60"], [b"\x02", b"\x61"]],
        ]
        for n in (1, 2, 3)
    ]


DEEP_ERRORS = [
    (
        (2, 1, 1, 1, 0, 1),
        b"\x00\x01",
        NonCanonicalInteger,
        "accounts[2].storageChanges[1].slotChanges[0].postValue",
    ),
    (
        (1, 1, 0, 1, 1, 0),
        b"\x01" * 5,
        IntegerTooWide,
        "accounts[1].storageChanges[0].slotChanges[1].blockAccessIndex",
    ),
    ((2, 2, 1), [], WrongShape, "accounts[2].storageReads[1]"),
    ((1, 3, 1, 1), b"\x01" * 33, IntegerTooWide, "accounts[1].balanceChanges[1].postBalance"),
    ((2, 4, 1, 1), b"\x01" * 9, IntegerTooWide, "accounts[2].nonceChanges[1].postNonce"),
    ((2, 5, 1), [b"\x01"], WrongShape, "accounts[2].codeChanges[1]"),
    ((1, 1, 1), [b"\x01"], WrongShape, "accounts[1].storageChanges[1]"),
    ((2, 0), b"\x01" * 21, BadAddress, "accounts[2].address"),
]


def _with(tree: list[Any], path: tuple[int, ...], value: Any) -> list[Any]:
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return tree


@pytest.mark.parametrize("path, value, error, where", DEEP_ERRORS, ids=[case[3] for case in DEEP_ERRORS])
def test_errors_past_the_first_entries_name_their_entry(
    path: tuple[int, ...], value: Any, error: type[BalDecodeError], where: str
) -> None:
    assert decode_bal(rlp.encode(three_accounts()))  # the undamaged tree decodes
    with pytest.raises(error) as info:
        decode_bal(rlp.encode(_with(three_accounts(), path, value)))
    assert info.value.where == where
    assert str(info.value).endswith(f"(at {where})")


@pytest.mark.parametrize(
    "first, second, where",
    [
        # the account's fields are checked storageChanges, address, storageReads, balance, nonce, code
        (((0, 0), b"\x01"), ((0, 1, 0, 0), b"\x00"), "accounts[0].storageChanges[0].slot"),
        (((0, 0), b"\x01"), ((0, 2, 0), b"\x00"), "accounts[0].address"),
        (((0, 3, 1, 0), b"\x00"), ((0, 2, 1), []), "accounts[0].storageReads[1]"),
        (((1, 0), b""), ((0, 5, 0), b"\x00"), "accounts[0].codeChanges[0]"),
    ],
)
def test_the_first_error_in_decoding_order_is_reported(first: Any, second: Any, where: str) -> None:
    tree = _with(_with(three_accounts(), *first), *second)
    with pytest.raises(BalDecodeError) as info:
        decode_bal(rlp.encode(tree))
    assert info.value.where == where


def test_a_hundred_thousand_nested_lists_are_malformed_rlp() -> None:
    with pytest.raises(MalformedRlp):
        decode_bal(nested_lists(100_000))


def test_malformed_rlp_carries_the_readers_reason() -> None:
    with pytest.raises(MalformedRlp, match="single byte"):
        decode_bal(b"\xc2\x81\x05")
