"""RLP encoding and decoding of block access lists, and the BAL hash.

Wire form (EIP-7928)::

    BlockAccessList = [AccountChanges, ...]
    AccountChanges  = [address, [SlotChanges, ...], [slot, ...],
                       [[index, balance], ...], [[index, nonce], ...],
                       [[index, code], ...]]
    SlotChanges     = [slot, [[index, value], ...]]

Integers are canonical RLP integers: big-endian with no leading zero byte, zero
as the empty string. Decoding is strict about that and about field widths, so
that ``encode(decode(b)) == b`` holds for every input ``decode`` accepts: two
different byte strings never decode to the same BAL, which is what makes the
header hash a commitment to one BAL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import rlp
from eth_hash.auto import keccak
from rlp.exceptions import DecodingError

from .errors import (
    BadAddress,
    IntegerTooWide,
    MalformedRlp,
    NonCanonicalInteger,
    WrongShape,
)
from .rlp_items import rlp_int, rlp_list, rlp_string
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


# --- encoding -------------------------------------------------------------------


# Written out directly (``bal.rlp_items``), not through ``rlp.encode``.


def _pair(index: int, payload: bytes) -> bytes:
    return rlp_list([rlp_int(index), payload])


def _slot_changes(slot_changes: SlotChanges) -> bytes:
    changes = [_pair(c.block_access_index, rlp_int(c.post_value)) for c in slot_changes.changes]
    return rlp_list([rlp_int(slot_changes.slot), rlp_list(changes)])


def _encode_account(account: AccountChanges) -> bytes:
    return rlp_list(
        [
            rlp_string(account.address),
            rlp_list([_slot_changes(sc) for sc in account.storage_changes]),
            rlp_list([rlp_int(slot) for slot in account.storage_reads]),
            rlp_list([_pair(c.block_access_index, rlp_int(c.post_balance)) for c in account.balance_changes]),
            rlp_list([_pair(c.block_access_index, rlp_int(c.post_nonce)) for c in account.nonce_changes]),
            rlp_list([_pair(c.block_access_index, rlp_string(c.new_code)) for c in account.code_changes]),
        ]
    )


def encode_bal(bal: BlockAccessList) -> bytes:
    """The canonical RLP bytes of ``bal``, encoded once and then kept on it.

    A given BAL is hashed against the header before execution and, once
    execution reproduced it, stored: the same bytes twice.
    """
    encoded = bal._rlp
    if encoded is None:
        encoded = rlp_list([_encode_account(a) for a in bal.accounts])
        object.__setattr__(bal, "_rlp", encoded)  # the dataclass is frozen; its cache is not
    return encoded


def bal_hash(bal: BlockAccessList) -> bytes:
    """keccak256(rlp(bal)): the value committed in the header's blockAccessListHash."""
    return keccak(encode_bal(bal))


# --- decoding -------------------------------------------------------------------


def _as_list(item: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(item, list):
        raise WrongShape("expected a list, found a byte string", where)
    if length is not None and len(item) != length:
        raise WrongShape(f"expected {length} items, found {len(item)}", where)
    return item


def _as_bytes(item: Any, where: str) -> bytes:
    if not isinstance(item, bytes):
        raise WrongShape("expected a byte string, found a list", where)
    return item


def _as_int(item: Any, width: int, where: str) -> int:
    raw = _as_bytes(item, where)
    if raw[:1] == b"\x00":
        raise NonCanonicalInteger(f"integer 0x{raw.hex()} has a leading zero byte", where)
    if len(raw) > width:
        raise IntegerTooWide(f"{len(raw)}-byte integer in a {width}-byte field", where)
    return int.from_bytes(raw, "big")


def _as_address(item: Any, where: str) -> bytes:
    raw = _as_bytes(item, where)
    if len(raw) != ADDRESS_BYTES:
        raise BadAddress(f"address is {len(raw)} bytes, expected {ADDRESS_BYTES}", where)
    return raw


def _indexed(items: Any, where: str, build: Callable[[int, Any, str], T]) -> tuple[T, ...]:
    """Decode a list of ``[blockAccessIndex, payload]`` pairs."""
    out = []
    for i, pair in enumerate(_as_list(items, where)):
        at = f"{where}[{i}]"
        index, payload = _as_list(pair, at, 2)
        out.append(build(_as_int(index, INDEX_BYTES, f"{at}.blockAccessIndex"), payload, at))
    return tuple(out)


def _decode_account(item: Any, where: str) -> AccountChanges:
    address, storage, reads, balances, nonces, codes = _as_list(item, where, 6)
    slot_changes = []
    for i, entry in enumerate(_as_list(storage, f"{where}.storageChanges")):
        at = f"{where}.storageChanges[{i}]"
        slot, changes = _as_list(entry, at, 2)
        slot_changes.append(
            SlotChanges(
                slot=_as_int(slot, VALUE_BYTES, f"{at}.slot"),
                changes=_indexed(
                    changes,
                    f"{at}.slotChanges",
                    lambda idx, v, w: StorageChange(idx, _as_int(v, VALUE_BYTES, f"{w}.postValue")),
                ),
            )
        )
    return AccountChanges(
        address=_as_address(address, f"{where}.address"),
        storage_changes=tuple(slot_changes),
        storage_reads=tuple(
            _as_int(r, VALUE_BYTES, f"{where}.storageReads[{i}]")
            for i, r in enumerate(_as_list(reads, f"{where}.storageReads"))
        ),
        balance_changes=_indexed(
            balances,
            f"{where}.balanceChanges",
            lambda idx, v, w: BalanceChange(idx, _as_int(v, VALUE_BYTES, f"{w}.postBalance")),
        ),
        nonce_changes=_indexed(
            nonces,
            f"{where}.nonceChanges",
            lambda idx, v, w: NonceChange(idx, _as_int(v, NONCE_BYTES, f"{w}.postNonce")),
        ),
        code_changes=_indexed(
            codes,
            f"{where}.codeChanges",
            lambda idx, v, w: CodeChange(idx, _as_bytes(v, f"{w}.newCode")),
        ),
    )


def decode_bal(data: bytes) -> BlockAccessList:
    """Decode canonical BAL RLP; raises a :class:`BalDecodeError` subclass otherwise.

    Only the encoding is checked here (shapes, canonical integers, widths);
    ordering and the other EIP-7928 rules are :func:`bal.validation.validate_structure`'s job.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise WrongShape(f"expected bytes, got {type(data).__name__}")
    try:
        items = rlp.decode(bytes(data), strict=True)
    except DecodingError as exc:
        raise MalformedRlp(str(exc)) from None
    except RecursionError:
        # pyrlp decodes recursively; a BAL is 5 lists deep, so this is garbage.
        raise MalformedRlp("lists nested too deeply") from None
    accounts = _as_list(items, "accounts")
    # Strict decoding makes ``data`` the only encoding of the result: it is kept as its RLP.
    return BlockAccessList(
        tuple(_decode_account(a, f"accounts[{i}]") for i, a in enumerate(accounts)), _rlp=bytes(data)
    )
