"""JSON codecs of bal/: fixture-form round trips and rejects, Engine API hex form, fuzzing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from bal_strategies import (
    FUZZ,
    QUICK,
    U32_MAX,
    U64_MAX,
    U256_MAX,
    account,
    any_bals,
    bal_of,
    json_values,
)
from hypothesis import given
from hypothesis import strategies as st

from bal import (
    BalDecodeError,
    BlockAccessList,
    bal_from_engine_hex,
    bal_from_json,
    bal_to_engine_hex,
    bal_to_json,
    decode_bal,
    encode_bal,
)
from bal.errors import BadAddress, IntegerTooWide, MalformedJson, MalformedRlp, WrongShape

# --- round trips ------------------------------------------------------------------


@FUZZ
@given(any_bals)
def test_json_round_trip(bal: BlockAccessList) -> None:
    j = bal_to_json(bal)
    assert bal_from_json(j) == bal
    assert bal_to_json(bal_from_json(j)) == j
    # it is plain JSON: survives text serialisation unchanged
    assert bal_from_json(json.loads(json.dumps(j))) == bal


@FUZZ
@given(any_bals)
def test_engine_hex_round_trip(bal: BlockAccessList) -> None:
    text = bal_to_engine_hex(bal)
    assert text == "0x" + encode_bal(bal).hex()
    assert bal_from_engine_hex(text) == bal
    assert bal_from_engine_hex(text.upper().replace("0X", "0x")) == bal  # hex digits are case-insensitive


def example_json() -> list[dict[str, Any]]:
    """A hand-written fixture-form BAL (fields in fixture order) and the values it means."""
    return [
        {
            "address": "0x" + "00" * 19 + "0a",
            "nonceChanges": [{"blockAccessIndex": "0x01", "postNonce": "0x0100"}],
            "balanceChanges": [
                {"blockAccessIndex": "0x00", "postBalance": "0x00"},
                {"blockAccessIndex": "0x02", "postBalance": "0x3635c9adc5de964696"},
            ],
            "codeChanges": [{"blockAccessIndex": "0x01", "newCode": "0x6000"}],
            "storageChanges": [
                {
                    "slot": "0x00",
                    "slotChanges": [
                        {"blockAccessIndex": "0x01", "postValue": "0xabcd"},
                        {"blockAccessIndex": "0x02", "postValue": "0x00"},
                    ],
                }
            ],
            "storageReads": ["0x200b"],
        },
        {
            "address": "0x" + "ff" * 20,
            "nonceChanges": [],
            "balanceChanges": [],
            "codeChanges": [{"blockAccessIndex": "0xffffffff", "newCode": "0x"}],
            "storageChanges": [],
            "storageReads": ["0x" + "ff" * 32],
        },
    ]


def example_bal() -> BlockAccessList:
    return bal_of(
        account(
            10,
            storage={0: [(1, 0xABCD), (2, 0)]},
            reads=[0x200B],
            balances=[(0, 0), (2, 0x3635C9ADC5DE964696)],
            nonces=[(1, 0x100)],
            codes=[(1, b"\x60\x00")],
        ),
        account(2**160 - 1, reads=[U256_MAX], codes=[(U32_MAX, b"")]),
    )


def test_example_decodes_to_expected_values() -> None:
    assert bal_from_json(example_json()) == example_bal()


def test_example_encodes_to_fixture_form() -> None:
    """Quantities are whole bytes with zero as 0x00; code is plain hex; keys are camelCase."""
    assert bal_to_json(example_bal()) == example_json()


def test_to_json_field_order_matches_fixtures() -> None:
    assert list(bal_to_json(example_bal())[0]) == [
        "address",
        "nonceChanges",
        "balanceChanges",
        "codeChanges",
        "storageChanges",
        "storageReads",
    ]


@pytest.mark.parametrize(
    "text, value",
    [("0x00", 0), ("0x01", 1), ("0xabcd", 0xABCD), ("0xABCD", 0xABCD), ("0x" + "f" * 64, U256_MAX)],
)
def test_quantities_decode_exactly(text: str, value: int) -> None:
    j = example_json()[:1]
    j[0]["storageReads"] = [text]
    assert bal_from_json(j).accounts[0].storage_reads == (value,)


# --- malformed fixture JSON -----------------------------------------------------------


def _mutate(path: tuple[Any, ...], value: Any = None, delete: bool = False) -> list[Any]:
    j = example_json()
    node: Any = j
    for p in path[:-1]:
        node = node[p]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return j


A0 = "accounts[0]"
MALFORMED_JSON = [
    # shape
    ("top-level-object", {}, MalformedJson, "accounts"),
    ("top-level-string", "0xc0", MalformedJson, "accounts"),
    ("top-level-null", None, MalformedJson, "accounts"),
    ("account-not-object", ["0x" + "00" * 20], MalformedJson, A0),
    ("account-is-list", [[]], MalformedJson, A0),
    *[
        (f"missing-{field}", _mutate((0, field), delete=True), MalformedJson, A0)
        for field in (
            "address",
            "nonceChanges",
            "balanceChanges",
            "codeChanges",
            "storageChanges",
            "storageReads",
        )
    ],
    ("extra-account-field", _mutate((0, "storageKeys"), []), MalformedJson, A0),
    (
        "extra-change-field",
        _mutate((0, "nonceChanges", 0, "txIndex"), "0x01"),
        MalformedJson,
        f"{A0}.nonceChanges[0]",
    ),
    (
        "missing-index",
        _mutate((0, "balanceChanges", 1, "blockAccessIndex"), delete=True),
        MalformedJson,
        f"{A0}.balanceChanges[1]",
    ),
    (
        "missing-post-value",
        _mutate((0, "storageChanges", 0, "slotChanges", 0, "postValue"), delete=True),
        MalformedJson,
        f"{A0}.storageChanges[0].slotChanges[0]",
    ),
    (
        "missing-slot",
        _mutate((0, "storageChanges", 0, "slot"), delete=True),
        MalformedJson,
        f"{A0}.storageChanges[0]",
    ),
    (
        "slot-changes-not-list",
        _mutate((0, "storageChanges", 0, "slotChanges"), {}),
        MalformedJson,
        f"{A0}.storageChanges[0].slotChanges",
    ),
    ("storage-changes-not-list", _mutate((0, "storageChanges"), "0x"), MalformedJson, f"{A0}.storageChanges"),
    ("reads-not-list", _mutate((0, "storageReads"), "0x01"), MalformedJson, f"{A0}.storageReads"),
    ("balances-is-null", _mutate((0, "balanceChanges"), None), MalformedJson, f"{A0}.balanceChanges"),
    (
        "change-not-object",
        _mutate((0, "codeChanges", 0), ["0x01", "0x60"]),
        MalformedJson,
        f"{A0}.codeChanges[0]",
    ),
    # wrong scalar types
    ("address-int", _mutate((0, "address"), 10), MalformedJson, f"{A0}.address"),
    ("address-null", _mutate((0, "address"), None), MalformedJson, f"{A0}.address"),
    ("quantity-int", _mutate((0, "storageReads", 0), 0x200B), MalformedJson, f"{A0}.storageReads[0]"),
    (
        "quantity-bool",
        _mutate((0, "nonceChanges", 0, "postNonce"), True),
        MalformedJson,
        f"{A0}.nonceChanges[0].postNonce",
    ),
    (
        "index-float",
        _mutate((0, "nonceChanges", 0, "blockAccessIndex"), 1.0),
        MalformedJson,
        f"{A0}.nonceChanges[0].blockAccessIndex",
    ),
    (
        "code-list",
        _mutate((0, "codeChanges", 0, "newCode"), [96, 0]),
        MalformedJson,
        f"{A0}.codeChanges[0].newCode",
    ),
    # bad hex
    ("address-no-prefix", _mutate((0, "address"), "00" * 20), MalformedJson, f"{A0}.address"),
    ("address-bad-hex", _mutate((0, "address"), "0x" + "zz" * 20), MalformedJson, f"{A0}.address"),
    ("address-odd-hex", _mutate((0, "address"), "0x" + "0" * 39), MalformedJson, f"{A0}.address"),
    ("address-upper-prefix", _mutate((0, "address"), "0X" + "00" * 20), MalformedJson, f"{A0}.address"),
    (
        "code-odd-hex",
        _mutate((0, "codeChanges", 0, "newCode"), "0x600"),
        MalformedJson,
        f"{A0}.codeChanges[0].newCode",
    ),
    (
        "code-bad-hex",
        _mutate((0, "codeChanges", 0, "newCode"), "0x60gg"),
        MalformedJson,
        f"{A0}.codeChanges[0].newCode",
    ),
    (
        "code-no-prefix",
        _mutate((0, "codeChanges", 0, "newCode"), "6000"),
        MalformedJson,
        f"{A0}.codeChanges[0].newCode",
    ),
    ("quantity-empty", _mutate((0, "storageReads", 0), "0x"), MalformedJson, f"{A0}.storageReads[0]"),
    ("quantity-no-prefix", _mutate((0, "storageReads", 0), "200b"), MalformedJson, f"{A0}.storageReads[0]"),
    (
        "quantity-bad-hex",
        _mutate((0, "storageChanges", 0, "slot"), "0xzz"),
        MalformedJson,
        f"{A0}.storageChanges[0].slot",
    ),
    (
        "quantity-decimal-word",
        _mutate((0, "balanceChanges", 0, "postBalance"), "0xten"),
        MalformedJson,
        f"{A0}.balanceChanges[0].postBalance",
    ),
    # wrong lengths / widths
    ("address-19-bytes", _mutate((0, "address"), "0x" + "11" * 19), BadAddress, f"{A0}.address"),
    ("address-21-bytes", _mutate((0, "address"), "0x" + "11" * 21), BadAddress, f"{A0}.address"),
    ("address-empty", _mutate((0, "address"), "0x"), BadAddress, f"{A0}.address"),
    (
        "slot-2**256",
        _mutate((0, "storageChanges", 0, "slot"), hex(2**256)),
        IntegerTooWide,
        f"{A0}.storageChanges[0].slot",
    ),
    ("read-2**256", _mutate((0, "storageReads", 0), hex(2**256)), IntegerTooWide, f"{A0}.storageReads[0]"),
    (
        "value-2**256",
        _mutate((0, "storageChanges", 0, "slotChanges", 1, "postValue"), hex(2**256)),
        IntegerTooWide,
        f"{A0}.storageChanges[0].slotChanges[1].postValue",
    ),
    (
        "balance-2**256",
        _mutate((0, "balanceChanges", 1, "postBalance"), hex(2**256)),
        IntegerTooWide,
        f"{A0}.balanceChanges[1].postBalance",
    ),
    (
        "nonce-2**64",
        _mutate((0, "nonceChanges", 0, "postNonce"), hex(2**64)),
        IntegerTooWide,
        f"{A0}.nonceChanges[0].postNonce",
    ),
    (
        "index-2**32",
        _mutate((0, "codeChanges", 0, "blockAccessIndex"), hex(2**32)),
        IntegerTooWide,
        f"{A0}.codeChanges[0].blockAccessIndex",
    ),
    (
        "storage-index-2**32",
        _mutate((0, "storageChanges", 0, "slotChanges", 0, "blockAccessIndex"), hex(2**32)),
        IntegerTooWide,
        f"{A0}.storageChanges[0].slotChanges[0].blockAccessIndex",
    ),
]


@pytest.mark.parametrize(
    "value, exc_type, where",
    [case[1:] for case in MALFORMED_JSON],
    ids=[case[0] for case in MALFORMED_JSON],
)
def test_malformed_json(value: Any, exc_type: type, where: str) -> None:
    with pytest.raises(exc_type) as info:
        bal_from_json(value)
    assert isinstance(info.value, BalDecodeError)
    assert info.value.where == where


def test_error_in_second_account_names_that_account() -> None:
    j = example_json()
    j[1]["storageReads"] = ["0x1", "0xnope"]
    with pytest.raises(MalformedJson) as info:
        bal_from_json(j)
    assert info.value.where == "accounts[1].storageReads[1]"


@pytest.mark.parametrize(
    "width_bytes, field", [(32, "storageReads"), (8, "postNonce"), (4, "blockAccessIndex")]
)
def test_maximum_width_quantities_accepted(width_bytes: int, field: str) -> None:
    top = hex(2 ** (8 * width_bytes) - 1)
    j = example_json()
    if field == "storageReads":
        j[0]["storageReads"] = [top]
        expected: Any = (U256_MAX,)
        got: Any = bal_from_json(j).accounts[0].storage_reads
    elif field == "postNonce":
        j[0]["nonceChanges"][0]["postNonce"] = top
        expected, got = U64_MAX, bal_from_json(j).accounts[0].nonce_changes[0].post_nonce
    else:
        j[0]["nonceChanges"][0]["blockAccessIndex"] = top
        expected, got = U32_MAX, bal_from_json(j).accounts[0].nonce_changes[0].block_access_index
    assert got == expected


# Quantities that are not hex numbers: a sign, digit-group underscores,
# whitespace, or non-ASCII digits. int(x, 16) accepts all of them.
NOT_HEX_QUANTITIES = ["0x-1", "0x+1", "0x1_0", "0x 10", "0x\u0663"]


@pytest.mark.parametrize("text", NOT_HEX_QUANTITIES, ids=repr)
def test_non_hex_quantity_rejected(text: str) -> None:
    j = example_json()
    j[0]["storageReads"] = [text]
    with pytest.raises(MalformedJson) as info:
        bal_from_json(j)
    assert info.value.where == "accounts[0].storageReads[0]"


def test_negative_quantity_does_not_produce_unencodable_bal() -> None:
    """A BAL accepted from JSON must be encodable; a negative balance is not."""
    j = example_json()
    j[0]["balanceChanges"][1]["postBalance"] = "0x-5"
    try:
        bal = bal_from_json(j)
    except BalDecodeError:
        return
    balances = [c.post_balance for c in bal.accounts[0].balance_changes]
    assert min(balances) >= 0, f"bal_from_json accepted postBalance '0x-5' as {balances}"
    encode_bal(bal)


# Byte strings (addresses, code) with whitespace between the hex pairs:
# bytes.fromhex skips it, so these are accepted as if the spaces were not there.
NOT_HEX_BYTES = [
    ("address", "0x" + "11 " * 20),
    ("address", "0x " + "11" * 19 + " 11"),
    ("newCode", "0x60 00"),
    ("newCode", "0x\t6000\n"),
    ("engine", "0x c0 "),
]


@pytest.mark.parametrize("field, text", NOT_HEX_BYTES, ids=[repr(t) for _, t in NOT_HEX_BYTES])
def test_whitespace_in_hex_bytes_rejected(field: str, text: str) -> None:
    j = example_json()
    if field == "engine":
        with pytest.raises(BalDecodeError):
            bal_from_engine_hex(text)
        return
    if field == "address":
        j[0]["address"] = text
    else:
        j[0]["codeChanges"][0]["newCode"] = text
    with pytest.raises(BalDecodeError):
        bal_from_json(j)


# --- Engine API hex form -----------------------------------------------------------


@pytest.mark.parametrize(
    "value, exc_type",
    [
        ("c0", MalformedJson),
        ("0Xc0", MalformedJson),
        ("0xc", MalformedJson),
        ("0xzz", MalformedJson),
        (None, MalformedJson),
        (0xC0, MalformedJson),
        (b"\xc0", MalformedJson),
        ("0x", MalformedRlp),
        ("0xc1", MalformedRlp),
        ("0xc000", MalformedRlp),
        ("0x8105", MalformedRlp),
        ("0x80", WrongShape),
        ("0xc1c0", WrongShape),
    ],
    ids=repr,
)
def test_engine_hex_rejects(value: Any, exc_type: type) -> None:
    with pytest.raises(exc_type) as info:
        bal_from_engine_hex(value)
    assert isinstance(info.value, BalDecodeError)
    if exc_type is MalformedJson:
        assert info.value.where == "blockAccessList"


def test_engine_hex_of_empty_bal() -> None:
    assert bal_to_engine_hex(BlockAccessList()) == "0xc0"
    assert bal_from_engine_hex("0xc0") == BlockAccessList()


def test_engine_hex_agrees_with_fixture_form() -> None:
    bal = bal_from_json(example_json())
    assert decode_bal(bytes.fromhex(bal_to_engine_hex(bal)[2:])) == bal


# --- fuzzing --------------------------------------------------------------------


def assert_total(value: Any) -> None:
    """bal_from_json either rejects with a BalDecodeError or returns a usable BAL."""
    try:
        bal = bal_from_json(value)
    except BalDecodeError:
        return
    assert isinstance(bal, BlockAccessList)
    assert decode_bal(encode_bal(bal)) == bal
    assert bal_from_json(bal_to_json(bal)) == bal


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json(value: Any) -> None:
    assert_total(value)
    assert_total([value])


def _json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, list):
        for i, child in enumerate(node):
            out.extend(_json_paths(child, prefix + (i,)))
    elif isinstance(node, dict):
        for k, child in node.items():
            out.extend(_json_paths(child, prefix + (k,)))
    return out


@FUZZ
@given(st.data())
def test_fuzz_mutated_valid_json(data: st.DataObject) -> None:
    j = copy.deepcopy(bal_to_json(data.draw(any_bals)))
    paths = _json_paths(j)
    path = data.draw(st.sampled_from(paths))
    op = data.draw(st.sampled_from(["replace", "delete", "add-key"]))
    if not path:
        j = data.draw(json_values)
    else:
        parent: Any = j
        for p in path[:-1]:
            parent = parent[p]
        if op == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12))] = data.draw(json_values)
        else:
            parent.insert(path[-1], data.draw(json_values))
    assert_total(j)


@QUICK
@given(st.text(max_size=60) | st.from_regex(r"0x[0-9a-fA-F]{0,80}", fullmatch=True))
def test_fuzz_engine_hex(text: str) -> None:
    try:
        bal = bal_from_engine_hex(text)
    except BalDecodeError:
        return
    # whitespace inside the hex is a separate, known leniency (see test_whitespace_in_hex_bytes_rejected)
    assert bal_to_engine_hex(bal) == "".join(text.split()).lower()
