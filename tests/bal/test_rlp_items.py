"""bal.rlp_items.read_rlp: the repository's one RLP reader, held to pyrlp's strict decoder."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from bal_strategies import byte_mutations, nested_lists, ref_rlp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rlp.exceptions import DecodingError

from bal.rlp_items import MAX_DEPTH, RlpDecodeError, RlpItem, read_rlp

# Fast enough for `make unit`: a few hundred examples of at most a few KB each.
AGREEMENT = settings(max_examples=400, deadline=None)

# Strings around the short/long boundary (55/56 bytes) and single bytes on both sides of 0x80.
strings = st.one_of(
    st.binary(max_size=70),
    st.integers(0, 255).map(lambda value: bytes((value,))),
    st.sampled_from([b"", b"\x00", b"\x7f", b"\x80", b"a" * 55, b"a" * 56, b"b" * 300]),
)
trees = st.recursive(strings, lambda inner: st.lists(inner, max_size=6), max_leaves=30)

REJECTED = "rejected"


def pyrlp_decode(data: bytes) -> Any:
    """pyrlp's strict reading of ``data``, or REJECTED."""
    try:
        return rlp.decode(data, strict=True)
    except DecodingError:
        return REJECTED


def our_decode(data: bytes) -> Any:
    """read_rlp's reading of ``data``, or REJECTED (any other exception fails the test)."""
    try:
        return read_rlp(data)
    except RlpDecodeError:
        return REJECTED


@AGREEMENT
@given(trees)
def test_valid_encodings_read_back_as_pyrlp_reads_them(tree: Any) -> None:
    data = rlp.encode(tree)
    assert data == ref_rlp(tree)
    assert read_rlp(data) == tree == rlp.decode(data, strict=True)


@AGREEMENT
@given(st.binary(max_size=300))
@example(b"\xc2\x81\x05")  # a single byte with a prefix inside a list
@example(b"\xb8\x05hello")  # long form for 5 bytes
@example(b"\xf8\x00")  # long-form list of length 0
@example(b"\xb9\x00\x38" + b"a" * 56)  # length with a leading zero byte
@example(b"\xc3\x84abc")  # string runs past its list
@example(b"\x81")  # a one-byte string cut off before its byte
def test_random_bytes_are_accepted_or_rejected_as_pyrlp_does(data: bytes) -> None:
    assert our_decode(data) == pyrlp_decode(data)


@AGREEMENT
@given(st.data())
def test_mutated_encodings_are_accepted_or_rejected_as_pyrlp_does(data: st.DataObject) -> None:
    mutated = data.draw(byte_mutations(rlp.encode(data.draw(trees))))
    assert our_decode(mutated) == pyrlp_decode(mutated)


MALFORMED = [
    ("empty", b""),
    ("two-items", b"\xc0\xc0"),
    ("trailing-byte", b"\x05\x05"),
    ("single-byte-with-prefix", b"\x81\x05"),
    ("nested-single-byte-with-prefix", b"\xc2\x81\x7f"),
    ("long-string-form-for-55-bytes", b"\xb8\x37" + b"a" * 55),
    ("long-list-form-for-short-list", b"\xf8\x01\xc0"),
    ("length-with-leading-zero", b"\xb9\x00\x38" + b"a" * 56),
    ("list-length-with-leading-zero", b"\xf9\x00\x38" + b"\x01" * 56),
    ("string-past-end", b"\x83ab"),
    ("list-past-end", b"\xc3\x01\x02"),
    ("item-past-its-list", b"\xc2\x82ab"),
    ("length-bytes-cut-off", b"\xb9\x01"),
    ("huge-length", b"\xbf" + b"\xff" * 8),
    ("huge-list-length", b"\xff" + b"\xff" * 8),
]


@pytest.mark.parametrize("data", [case[1] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_input_raises_the_one_typed_error(data: bytes) -> None:
    with pytest.raises(RlpDecodeError) as info:
        read_rlp(data)
    assert isinstance(info.value, ValueError)
    assert pyrlp_decode(data) == REJECTED  # the same rule pyrlp enforces


@pytest.mark.parametrize("size", [55, 56, 255, 256, 70_000])
def test_short_and_long_forms_at_their_boundaries(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    tree = [payload, [payload, b"\x01"], []]
    assert read_rlp(rlp.encode(tree)) == tree


def depth_of(item: RlpItem) -> int:
    """How many lists are nested in ``item`` along its first entries (iteratively)."""
    depth = 0
    while isinstance(item, list):
        depth += 1
        if not item:
            break
        item = item[0]
    return depth


def test_nesting_up_to_the_limit_is_read() -> None:
    assert depth_of(read_rlp(nested_lists(MAX_DEPTH))) == MAX_DEPTH


def test_nesting_past_the_limit_is_refused() -> None:
    with pytest.raises(RlpDecodeError, match=f"deeper than {MAX_DEPTH}"):
        read_rlp(nested_lists(MAX_DEPTH + 1))


def test_a_hundred_thousand_nested_lists_raise_the_typed_error_not_recursion_error() -> None:
    data = nested_lists(100_000)
    assert rlp.decode(nested_lists(100))  # well-formed RLP: only the depth is wrong
    try:
        read_rlp(data)
    except RlpDecodeError:
        return
    except RecursionError:
        pytest.fail("read_rlp let a RecursionError escape")
    pytest.fail("read_rlp accepted 100,000 nested lists")


@pytest.mark.parametrize("max_depth, accepted", [(1, b"\xc1\x80"), (2, b"\xc2\xc1\x80")])
def test_max_depth_is_the_number_of_nested_lists(max_depth: int, accepted: bytes) -> None:
    assert depth_of(read_rlp(accepted, max_depth=max_depth)) == max_depth
    with pytest.raises(RlpDecodeError):
        read_rlp(b"\xc1" + accepted, max_depth=max_depth)
    assert read_rlp(b"\x05", max_depth=max_depth) == b"\x05"  # a string nests no list
