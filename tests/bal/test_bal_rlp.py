"""RLP codec of bal/: round trips, agreement with an independent encoder, every decode error path, fuzzing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import rlp
from bal_strategies import (
    FUZZ,
    U32_MAX,
    U64_MAX,
    U256_MAX,
    account,
    addr,
    any_bals,
    bal_of,
    byte_mutations,
    int_bytes,
    mutated_trees,
    nested_of,
    ref_rlp,
    valid_bals,
)
from eth_hash.auto import keccak
from hypothesis import example, given
from hypothesis import strategies as st

from bal import AccountChanges, BalDecodeError, BlockAccessList, bal_hash, decode_bal, encode_bal
from bal.errors import BadAddress, IntegerTooWide, MalformedRlp, NonCanonicalInteger, WrongShape

# --- round trips and independent encoding ---------------------------------------------


@FUZZ
@given(any_bals)
def test_decode_encode_round_trip(bal: BlockAccessList) -> None:
    data = encode_bal(bal)
    assert decode_bal(data) == bal
    assert encode_bal(decode_bal(data)) == data
    assert encode_anew(decode_bal(data)) == data


def encode_anew(bal: BlockAccessList) -> bytes:
    """Encode ``bal``'s value again, not the RLP a decoded BAL keeps (which is its input)."""
    return encode_bal(BlockAccessList(bal.accounts))


def test_a_bal_keeps_its_rlp_outside_its_value() -> None:
    data = encode_bal(bal_of(account(1, balances=[(1, 5)])))
    decoded = decode_bal(data)
    assert encode_bal(decoded) == data
    plain = BlockAccessList(decoded.accounts)  # equal value, no RLP kept yet
    assert decoded == plain and hash(decoded) == hash(plain) and repr(decoded) == repr(plain)


@FUZZ
@given(any_bals)
def test_encode_matches_independent_encoders(bal: BlockAccessList) -> None:
    tree = nested_of(bal)
    expected = ref_rlp(tree)
    assert rlp.encode(tree) == expected  # the reference encoder agrees with pyrlp
    assert encode_bal(bal) == expected
    assert rlp.decode(encode_bal(bal)) == tree
    assert bal_hash(bal) == keccak(expected)


def test_empty_bal_is_empty_list() -> None:
    assert encode_bal(BlockAccessList()) == b"\xc0"
    assert decode_bal(b"\xc0") == BlockAccessList()
    assert bal_hash(BlockAccessList()) == keccak(b"\xc0")


def test_address_only_account_bytes_by_hand() -> None:
    address = bytes(range(1, 21))
    # account: 0x94 + 20 address bytes, then five empty lists -> 26-byte payload
    account_rlp = bytes([0xC0 + 26]) + b"\x94" + address + b"\xc0" * 5
    expected = bytes([0xC0 + len(account_rlp)]) + account_rlp
    bal = BlockAccessList((AccountChanges(address=address),))
    assert encode_bal(bal) == expected
    assert decode_bal(expected) == bal
    assert bal_hash(bal) == keccak(expected)


def test_integer_fields_encode_canonically_by_hand() -> None:
    bal = bal_of(account(1, storage={0: [(0, 0)]}, reads=[0x80], balances=[(1, 0x7F)], nonces=[(2, 0x100)]))
    # [slot=0 -> b"", [[index=0 -> b"", value=0 -> b""]]]: zero is the empty string
    slot_changes = b"\xc5" + b"\x80" + b"\xc3" + b"\xc2\x80\x80"
    reads = b"\xc2" + b"\x81\x80"  # 0x80 needs a length prefix
    balances = b"\xc3" + b"\xc2" + b"\x01\x7f"  # single bytes < 0x80 stand for themselves
    nonces = b"\xc5" + b"\xc4" + b"\x02" + b"\x82\x01\x00"
    body = (
        b"\x94"
        + addr(1)
        + bytes([0xC0 + len(slot_changes)])
        + slot_changes
        + reads
        + balances
        + nonces
        + b"\xc0"
    )
    account_rlp = bytes([0xC0 + len(body)]) + body
    expected = bytes([0xC0 + len(account_rlp)]) + account_rlp
    assert encode_bal(bal) == expected
    assert decode_bal(expected) == bal


@pytest.mark.parametrize(
    "field, value",
    [
        ("storage", {U256_MAX: [(U32_MAX, U256_MAX)]}),
        ("reads", [U256_MAX]),
        ("balances", [(U32_MAX, U256_MAX)]),
        ("nonces", [(U32_MAX, U64_MAX)]),
    ],
)
def test_maximum_width_values_round_trip(field: str, value: Any) -> None:
    bal = bal_of(account(1, **{field: value}))
    assert decode_bal(encode_bal(bal)) == bal


def test_decode_accepts_bytearray() -> None:
    bal = bal_of(account(1, balances=[(1, 5)]))
    assert decode_bal(bytearray(encode_bal(bal))) == bal


# --- decode error paths -----------------------------------------------------------------


def good_account() -> list[Any]:
    """The wire tree of one account with one entry in every list, as mutable lists."""
    return nested_of(
        bal_of(
            account(
                7,
                storage={1: [(1, 2)]},
                reads=[3],
                balances=[(1, 4)],
                nonces=[(1, 5)],
                codes=[(1, b"\x60\x00")],
            )
        )
    )[0]


def with_change(change: Callable[[list[Any]], None]) -> bytes:
    """RLP of a one-account BAL after ``change`` edits the account's wire tree in place."""
    acct = good_account()
    change(acct)
    return rlp.encode([acct])


def _set(path: tuple[int, ...], value: Any) -> Callable[[list[Any]], None]:
    def change(acct: list[Any]) -> None:
        node = acct
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return change


def test_good_account_decodes() -> None:
    assert len(decode_bal(with_change(lambda a: None))) == 1


DECODE_ERRORS = [
    # string where a list is expected
    ("storage-not-list", _set((1,), b"\x01"), WrongShape, "accounts[0].storageChanges"),
    ("reads-not-list", _set((2,), b""), WrongShape, "accounts[0].storageReads"),
    ("balances-not-list", _set((3,), b"\x05"), WrongShape, "accounts[0].balanceChanges"),
    ("nonces-not-list", _set((4,), b"\x05"), WrongShape, "accounts[0].nonceChanges"),
    ("codes-not-list", _set((5,), b"\x05"), WrongShape, "accounts[0].codeChanges"),
    ("slot-entry-not-list", _set((1, 0), b"\x01"), WrongShape, "accounts[0].storageChanges[0]"),
    (
        "slot-changes-not-list",
        _set((1, 0, 1), b"\x01"),
        WrongShape,
        "accounts[0].storageChanges[0].slotChanges",
    ),
    ("change-pair-not-list", _set((3, 0), b"\x01"), WrongShape, "accounts[0].balanceChanges[0]"),
    # list where a string is expected
    ("address-is-list", _set((0,), []), WrongShape, "accounts[0].address"),
    ("slot-is-list", _set((1, 0, 0), [b"\x01"]), WrongShape, "accounts[0].storageChanges[0].slot"),
    ("read-is-list", _set((2, 0), []), WrongShape, "accounts[0].storageReads[0]"),
    ("index-is-list", _set((3, 0, 0), []), WrongShape, "accounts[0].balanceChanges[0].blockAccessIndex"),
    (
        "value-is-list",
        _set((1, 0, 1, 0, 1), []),
        WrongShape,
        "accounts[0].storageChanges[0].slotChanges[0].postValue",
    ),
    ("balance-is-list", _set((3, 0, 1), []), WrongShape, "accounts[0].balanceChanges[0].postBalance"),
    ("nonce-is-list", _set((4, 0, 1), []), WrongShape, "accounts[0].nonceChanges[0].postNonce"),
    ("code-is-list", _set((5, 0, 1), [b"\x60"]), WrongShape, "accounts[0].codeChanges[0].newCode"),
    # wrong field counts
    ("account-5-fields", lambda a: a.pop(), WrongShape, "accounts[0]"),
    ("account-7-fields", lambda a: a.append([]), WrongShape, "accounts[0]"),
    ("slot-entry-1-field", lambda a: a[1][0].pop(), WrongShape, "accounts[0].storageChanges[0]"),
    ("slot-entry-3-fields", lambda a: a[1][0].append(b""), WrongShape, "accounts[0].storageChanges[0]"),
    (
        "storage-pair-3-fields",
        lambda a: a[1][0][1][0].append(b""),
        WrongShape,
        "accounts[0].storageChanges[0].slotChanges[0]",
    ),
    ("nonce-pair-1-field", lambda a: a[4][0].pop(), WrongShape, "accounts[0].nonceChanges[0]"),
    ("code-pair-3-fields", lambda a: a[5][0].append(b""), WrongShape, "accounts[0].codeChanges[0]"),
    # non-canonical integers
    (
        "zero-as-00",
        _set((3, 0, 0), b"\x00"),
        NonCanonicalInteger,
        "accounts[0].balanceChanges[0].blockAccessIndex",
    ),
    (
        "slot-leading-zero",
        _set((1, 0, 0), b"\x00\x01"),
        NonCanonicalInteger,
        "accounts[0].storageChanges[0].slot",
    ),
    ("read-leading-zero", _set((2, 0), b"\x00\x03"), NonCanonicalInteger, "accounts[0].storageReads[0]"),
    (
        "value-leading-zero",
        _set((1, 0, 1, 0, 1), b"\x00\x02"),
        NonCanonicalInteger,
        "accounts[0].storageChanges[0].slotChanges[0].postValue",
    ),
    (
        "balance-leading-zero",
        _set((3, 0, 1), b"\x00" * 32),
        NonCanonicalInteger,
        "accounts[0].balanceChanges[0].postBalance",
    ),
    (
        "nonce-leading-zero",
        _set((4, 0, 1), b"\x00\x05"),
        NonCanonicalInteger,
        "accounts[0].nonceChanges[0].postNonce",
    ),
    (
        "code-index-leading-zero",
        _set((5, 0, 0), b"\x00\x01"),
        NonCanonicalInteger,
        "accounts[0].codeChanges[0].blockAccessIndex",
    ),
    # too wide
    ("slot-33-bytes", _set((1, 0, 0), b"\x01" * 33), IntegerTooWide, "accounts[0].storageChanges[0].slot"),
    ("read-33-bytes", _set((2, 0), b"\x01" * 33), IntegerTooWide, "accounts[0].storageReads[0]"),
    (
        "value-33-bytes",
        _set((1, 0, 1, 0, 1), b"\x01" * 33),
        IntegerTooWide,
        "accounts[0].storageChanges[0].slotChanges[0].postValue",
    ),
    (
        "balance-33-bytes",
        _set((3, 0, 1), b"\x01" * 33),
        IntegerTooWide,
        "accounts[0].balanceChanges[0].postBalance",
    ),
    (
        "index-5-bytes",
        _set((3, 0, 0), b"\x01" * 5),
        IntegerTooWide,
        "accounts[0].balanceChanges[0].blockAccessIndex",
    ),
    (
        "storage-index-5-bytes",
        _set((1, 0, 1, 0, 0), b"\x01" * 5),
        IntegerTooWide,
        "accounts[0].storageChanges[0].slotChanges[0].blockAccessIndex",
    ),
    ("nonce-9-bytes", _set((4, 0, 1), b"\x01" * 9), IntegerTooWide, "accounts[0].nonceChanges[0].postNonce"),
    # addresses
    ("address-19-bytes", _set((0,), b"\x11" * 19), BadAddress, "accounts[0].address"),
    ("address-21-bytes", _set((0,), b"\x11" * 21), BadAddress, "accounts[0].address"),
    ("address-empty", _set((0,), b""), BadAddress, "accounts[0].address"),
]


@pytest.mark.parametrize(
    "change, exc_type, where",
    [case[1:] for case in DECODE_ERRORS],
    ids=[case[0] for case in DECODE_ERRORS],
)
def test_decode_error_paths(change: Callable[[list[Any]], None], exc_type: type, where: str) -> None:
    data = with_change(change)
    with pytest.raises(exc_type) as info:
        decode_bal(data)
    assert isinstance(info.value, BalDecodeError)
    assert info.value.where == where
    assert info.value.rule == exc_type.rule
    assert exc_type.rule in str(info.value) and where in str(info.value)


def test_error_in_second_account_names_that_account() -> None:
    second = good_account()
    second[0] = b"\x22" * 19
    data = rlp.encode([good_account(), second])
    with pytest.raises(BadAddress) as info:
        decode_bal(data)
    assert info.value.where == "accounts[1].address"


def test_error_in_second_entry_names_that_entry() -> None:
    acct = good_account()
    acct[2] = [b"\x01", b"\x00\x02"]
    with pytest.raises(NonCanonicalInteger) as info:
        decode_bal(rlp.encode([acct]))
    assert info.value.where == "accounts[0].storageReads[1]"


def test_top_level_string_is_wrong_shape() -> None:
    with pytest.raises(WrongShape) as info:
        decode_bal(rlp.encode(b"\x01\x02"))
    assert info.value.where == "accounts"


def test_account_as_string_is_wrong_shape() -> None:
    with pytest.raises(WrongShape) as info:
        decode_bal(rlp.encode([b"\x11" * 20]))
    assert info.value.where == "accounts[0]"


@pytest.mark.parametrize("value", ["c0", None, 0, [b"\xc0"]], ids=["str", "none", "int", "list"])
def test_non_bytes_input_is_wrong_shape(value: Any) -> None:
    with pytest.raises(WrongShape):
        decode_bal(value)


def _valid_bytes() -> bytes:
    return with_change(lambda a: None)


MALFORMED = [
    ("empty", b""),
    ("truncated-by-1", _valid_bytes()[:-1]),
    ("truncated-to-prefix", _valid_bytes()[:3]),
    ("only-list-prefix", b"\xc1"),
    ("trailing-byte", _valid_bytes() + b"\x00"),
    ("trailing-list", b"\xc0\xc0"),
    ("short-string-for-single-byte", b"\x81\x05"),
    ("nested-short-string-for-single-byte", b"\xc2\x81\x05"),
    ("long-string-prefix-for-short", b"\xb8\x01\x61"),
    ("long-list-prefix-for-short", b"\xf8\x01\xc0"),
    ("length-with-leading-zero", b"\xb9\x00\x38" + b"a" * 56),
    ("length-past-end", b"\xbf" + b"\xff" * 8),
]


@pytest.mark.parametrize("data", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_rlp(data: bytes) -> None:
    with pytest.raises(MalformedRlp):
        decode_bal(data)


def test_non_canonical_length_prefix_inside_a_field() -> None:
    # index 5 written as b'\x81\x05' instead of the single byte b'\x05'
    pair = b"\xc3" + b"\x81\x05" + b"\x01"
    body = b"\x94" + addr(1) + b"\xc0\xc0" + bytes([0xC0 + len(pair)]) + pair + b"\xc0\xc0"
    account_rlp = bytes([0xC0 + len(body)]) + body
    bad = bytes([0xC0 + len(account_rlp)]) + account_rlp
    canonical = rlp.encode([[addr(1), [], [], [[b"\x05", b"\x01"]], [], []]])
    assert decode_bal(canonical).accounts[0].balance_changes[0].block_access_index == 5
    with pytest.raises(MalformedRlp):
        decode_bal(bad)


def _deeply_nested(depth: int) -> bytes:
    data = b"\xc0"
    for _ in range(depth):
        data = ref_rlp_list_prefix(len(data)) + data
    return data


def ref_rlp_list_prefix(length: int) -> bytes:
    if length < 56:
        return bytes([0xC0 + length])
    size = int_bytes(length)
    return bytes([0xF7 + len(size)]) + size


def test_deeply_nested_input_raises_decode_error() -> None:
    """~40 KB of nested lists is well-formed RLP but not a BAL: it must be rejected as such.

    Such a payload can arrive through engine_newPayload, so nothing but a
    BalDecodeError may escape (not RecursionError).
    """
    data = _deeply_nested(10_000)
    try:
        decode_bal(data)
    except BalDecodeError:
        return
    except RecursionError:
        pytest.fail(f"decode_bal let RecursionError escape for {len(data)} bytes of nested lists")
    pytest.fail("decode_bal accepted a nested-list payload that is not a BAL")


# --- fuzzing ----------------------------------------------------------------------


def assert_total(data: bytes) -> None:
    """decode_bal either rejects with a BalDecodeError or accepts exactly the canonical bytes."""
    try:
        bal = decode_bal(data)
    except BalDecodeError:
        return
    assert isinstance(bal, BlockAccessList)
    assert encode_anew(bal) == data


@FUZZ
@given(st.binary(max_size=200))
@example(b"\xc0")
@example(b"\xc1\xc0")
@example(b"\xc7\xc6\x80\xc0\xc0\xc0\xc0\xc0")
def test_fuzz_random_bytes(data: bytes) -> None:
    assert_total(data)


@FUZZ
@given(st.data())
def test_fuzz_byte_mutations_of_valid_encodings(data: st.DataObject) -> None:
    original = encode_bal(data.draw(valid_bals(min_accounts=1, max_accounts=3)))
    assert_total(data.draw(byte_mutations(original)))


@FUZZ
@given(mutated_trees())
def test_fuzz_tree_mutations_of_valid_encodings(tree: Any) -> None:
    assert_total(rlp.encode(tree))
