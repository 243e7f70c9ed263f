"""JSON forms of a block access list.

Two forms exist:

* the EF fixture form: a list of camelCase objects (``address``,
  ``storageChanges[{slot, slotChanges[{blockAccessIndex, postValue}]}]``,
  ``storageReads``, ``balanceChanges``, ``nonceChanges``, ``codeChanges``) with
  hex quantities;
* the Engine API form (``engine_newPayloadV5``): ``blockAccessList`` is the hex
  of the RLP bytes.

Both decoders raise :class:`bal.errors.BalDecodeError` subclasses naming the
offending entry; nothing half-built escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import BadAddress, IntegerTooWide, MalformedJson
from .hex_text import hex_data
from .rlp_codec import decode_bal, encode_bal
from .types import (
    ADDRESS_BYTES,
    INDEX_BYTES,
    NONCE_BYTES,
    VALUE_BYTES,
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    SlotChanges,
    StorageChange,
)

T = TypeVar("T")

# Plain hex digits only: int() and bytes.fromhex() would also take signs,
# underscores, whitespace and non-ASCII digits.
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")

_ACCOUNT_FIELDS = {
    "address",
    "storageChanges",
    "storageReads",
    "balanceChanges",
    "nonceChanges",
    "codeChanges",
}


# --- hex helpers ------------------------------------------------------------------


def _hex_bytes(value: Any, where: str) -> bytes:
    raw = hex_data(value)
    if raw is not None:
        return raw
    # Which rule it breaks, for the message:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise MalformedJson(f"expected a 0x-prefixed hex string, got {value!r:.80}", where)
    if not _HEX_DIGITS.fullmatch(value, 2):
        raise MalformedJson(f"not hex: {value!r:.80}", where)
    raise MalformedJson("odd number of hex digits", where)


def _hex_int(value: Any, width: int, where: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) == 2:
        raise MalformedJson(f"expected a 0x-prefixed hex quantity, got {value!r:.80}", where)
    if not _HEX_DIGITS.fullmatch(value, 2):
        raise MalformedJson(f"not a hex quantity: {value!r:.80}", where)
    number = int(value[2:], 16)
    if number.bit_length() > width * 8:
        raise IntegerTooWide(f"{value:.80} does not fit in {width} bytes", where)
    return number


def quantity(number: int) -> str:
    """Fixture-style hex quantity: whole bytes, zero as ``0x00``."""
    return "0x" + number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big").hex()


# --- fixture JSON -> BAL ------------------------------------------------------


def _obj(value: Any, where: str, fields: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedJson(f"expected an object, got {type(value).__name__}", where)
    missing = fields - value.keys()
    if missing:
        raise MalformedJson(f"missing field(s) {sorted(missing)}", where)
    extra = value.keys() - fields
    if extra:
        raise MalformedJson(f"unexpected field(s) {sorted(extra)}", where)
    return value


def _arr(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedJson(f"expected an array, got {type(value).__name__}", where)
    return value


def _indexed_json(
    items: Any, where: str, key: str, build: Callable[[int, Any, str], T]
) -> tuple[T, ...]:
    out = []
    for i, entry in enumerate(_arr(items, where)):
        at = f"{where}[{i}]"
        obj = _obj(entry, at, {"blockAccessIndex", key})
        index = _hex_int(obj["blockAccessIndex"], INDEX_BYTES, f"{at}.blockAccessIndex")
        out.append(build(index, obj[key], f"{at}.{key}"))
    return tuple(out)


def _account_from_json(value: Any, where: str) -> AccountChanges:
    obj = _obj(value, where, _ACCOUNT_FIELDS)
    address = _hex_bytes(obj["address"], f"{where}.address")
    if len(address) != ADDRESS_BYTES:
        raise BadAddress(f"address is {len(address)} bytes", f"{where}.address")
    slots = []
    for i, entry in enumerate(_arr(obj["storageChanges"], f"{where}.storageChanges")):
        at = f"{where}.storageChanges[{i}]"
        sc = _obj(entry, at, {"slot", "slotChanges"})
        slots.append(
            SlotChanges(
                slot=_hex_int(sc["slot"], VALUE_BYTES, f"{at}.slot"),
                changes=_indexed_json(
                    sc["slotChanges"],
                    f"{at}.slotChanges",
                    "postValue",
                    lambda idx, v, w: StorageChange(idx, _hex_int(v, VALUE_BYTES, w)),
                ),
            )
        )
    return AccountChanges(
        address=address,
        storage_changes=tuple(slots),
        storage_reads=tuple(
            _hex_int(r, VALUE_BYTES, f"{where}.storageReads[{i}]")
            for i, r in enumerate(_arr(obj["storageReads"], f"{where}.storageReads"))
        ),
        balance_changes=_indexed_json(
            obj["balanceChanges"],
            f"{where}.balanceChanges",
            "postBalance",
            lambda idx, v, w: BalanceChange(idx, _hex_int(v, VALUE_BYTES, w)),
        ),
        nonce_changes=_indexed_json(
            obj["nonceChanges"],
            f"{where}.nonceChanges",
            "postNonce",
            lambda idx, v, w: NonceChange(idx, _hex_int(v, NONCE_BYTES, w)),
        ),
        code_changes=_indexed_json(
            obj["codeChanges"],
            f"{where}.codeChanges",
            "newCode",
            lambda idx, v, w: CodeChange(idx, _hex_bytes(v, w)),
        ),
    )


def bal_from_json(value: Any) -> BlockAccessList:
    """Decode the fixture form (already parsed from JSON text)."""
    accounts = _arr(value, "accounts")
    return BlockAccessList(
        tuple(_account_from_json(a, f"accounts[{i}]") for i, a in enumerate(accounts))
    )


# --- BAL -> fixture JSON --------------------------------------------------------


def _indexed_to_json(key: str, pairs: list[tuple[int, str]]) -> list[dict[str, str]]:
    return [{"blockAccessIndex": quantity(i), key: v} for i, v in pairs]


def bal_to_json(bal: BlockAccessList) -> list[dict[str, Any]]:
    """The fixture form, with fields in the fixtures' own order."""
    return [
        {
            "address": "0x" + a.address.hex(),
            "nonceChanges": _indexed_to_json(
                "postNonce", [(c.block_access_index, quantity(c.post_nonce)) for c in a.nonce_changes]
            ),
            "balanceChanges": _indexed_to_json(
                "postBalance",
                [(c.block_access_index, quantity(c.post_balance)) for c in a.balance_changes],
            ),
            "codeChanges": _indexed_to_json(
                "newCode", [(c.block_access_index, "0x" + c.new_code.hex()) for c in a.code_changes]
            ),
            "storageChanges": [
                {
                    "slot": quantity(sc.slot),
                    "slotChanges": _indexed_to_json(
                        "postValue",
                        [(c.block_access_index, quantity(c.post_value)) for c in sc.changes],
                    ),
                }
                for sc in a.storage_changes
            ],
            "storageReads": [quantity(r) for r in a.storage_reads],
        }
        for a in bal.accounts
    ]


# --- Engine API form --------------------------------------------------------------


def bal_from_engine_hex(value: Any) -> BlockAccessList:
    """Decode ``blockAccessList`` as engine_newPayloadV5 carries it (hex of the RLP)."""
    return decode_bal(_hex_bytes(value, "blockAccessList"))


def bal_to_engine_hex(bal: BlockAccessList) -> str:
    return "0x" + encode_bal(bal).hex()
