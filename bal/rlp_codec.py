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
from functools import partial
from typing import Any, TypeVar

from eth_hash.auto import keccak

from .errors import (
    BadAddress,
    BalDecodeError,
    IntegerTooWide,
    MalformedRlp,
    NonCanonicalInteger,
    WrongShape,
)
from .rlp_items import RlpDecodeError, RlpItem, read_rlp, rlp_int, rlp_list, rlp_string
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


# The success path builds no location strings: a field that does not fit raises
# ``_Misfit`` naming only its own field, and each enclosing level adds its part of
# the location (``[3]``, ``.storageChanges``) while the error passes through it.


class _Misfit(Exception):
    """A value that does not fit its place in the BAL, located as it propagates outwards."""

    def __init__(self, error: type[BalDecodeError], message: str, field: str = "") -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.location_outwards = [field]

    def within(self, part: str) -> None:
        """Record that the misfit lies inside ``part`` (an index or a field name)."""
        self.location_outwards.append(part)

    def as_error(self) -> BalDecodeError:
        return self.error(self.message, "".join(reversed(self.location_outwards)))


def _as_list(item: RlpItem, length: int | None = None) -> list[RlpItem]:
    if not isinstance(item, list):
        raise _Misfit(WrongShape, "expected a list, found a byte string")
    if length is not None and len(item) != length:
        raise _Misfit(WrongShape, f"expected {length} items, found {len(item)}")
    return item


def _as_bytes(item: RlpItem, field: str) -> bytes:
    if not isinstance(item, bytes):
        raise _not_bytes(field)
    return item


def _not_bytes(field: str) -> _Misfit:
    return _Misfit(WrongShape, "expected a byte string, found a list", field)


def _as_int(raw: RlpItem, width: int, field: str = "") -> int:
    if not isinstance(raw, bytes):  # not through _as_bytes: one call less on the hot path
        raise _not_bytes(field)
    if raw[:1] == b"\x00":
        raise _Misfit(NonCanonicalInteger, f"integer 0x{raw.hex()} has a leading zero byte", field)
    if len(raw) > width:
        raise _Misfit(IntegerTooWide, f"{len(raw)}-byte integer in a {width}-byte field", field)
    return int.from_bytes(raw, "big")


def _as_address(item: RlpItem) -> bytes:
    raw = _as_bytes(item, "")
    if len(raw) != ADDRESS_BYTES:
        raise _Misfit(BadAddress, f"address is {len(raw)} bytes, expected {ADDRESS_BYTES}")
    return raw


def _each(items: RlpItem, decode: Callable[[RlpItem], T]) -> tuple[T, ...]:
    """``decode`` of every entry of the list ``items``; a misfit is located by its entry's position."""
    entries = _as_list(items)
    out = []
    position = 0
    try:
        for position in range(len(entries)):
            out.append(decode(entries[position]))
    except _Misfit as misfit:
        misfit.within(f"[{position}]")
        raise
    return tuple(out)


def _change(change: Callable[[int, Any], T], value_width: int | None, value_field: str, pair: RlpItem) -> T:
    """One ``[blockAccessIndex, value]`` pair as ``change(index, value)``.

    ``value_width`` is the value's integer width, or None for a byte string (code).
    """
    index, payload = _as_list(pair, 2)
    block_access_index = _as_int(index, INDEX_BYTES, ".blockAccessIndex")
    if value_width is None:
        return change(block_access_index, _as_bytes(payload, value_field))
    return change(block_access_index, _as_int(payload, value_width, value_field))


_storage_change = partial(_change, StorageChange, VALUE_BYTES, ".postValue")
_balance_change = partial(_change, BalanceChange, VALUE_BYTES, ".postBalance")
_nonce_change = partial(_change, NonceChange, NONCE_BYTES, ".postNonce")
_code_change = partial(_change, CodeChange, None, ".newCode")
_storage_read = partial(_as_int, width=VALUE_BYTES)


def _decode_slot_changes(entry: RlpItem) -> SlotChanges:
    slot, changes = _as_list(entry, 2)
    slot_number = _as_int(slot, VALUE_BYTES, ".slot")
    try:
        return SlotChanges(slot_number, _each(changes, _storage_change))
    except _Misfit as misfit:
        misfit.within(".slotChanges")
        raise


def _decode_account(item: RlpItem) -> AccountChanges:
    address, storage, reads, balances, nonces, codes = _as_list(item, 6)
    # The fields in the order their errors have always been reported (address after storage).
    field = ".storageChanges"
    try:
        storage_changes = _each(storage, _decode_slot_changes)
        field = ".address"
        checked_address = _as_address(address)
        field = ".storageReads"
        storage_reads = _each(reads, _storage_read)
        field = ".balanceChanges"
        balance_changes = _each(balances, _balance_change)
        field = ".nonceChanges"
        nonce_changes = _each(nonces, _nonce_change)
        field = ".codeChanges"
        code_changes = _each(codes, _code_change)
    except _Misfit as misfit:
        misfit.within(field)
        raise
    return AccountChanges(
        checked_address, storage_changes, storage_reads, balance_changes, nonce_changes, code_changes
    )


def decode_bal(data: bytes) -> BlockAccessList:
    """Decode canonical BAL RLP; raises a :class:`BalDecodeError` subclass otherwise.

    Only the encoding is checked here (shapes, canonical integers, widths);
    ordering and the other EIP-7928 rules are :func:`bal.validation.validate_structure`'s job.
    RLP that :func:`bal.rlp_items.read_rlp` refuses, lists nested deeper than its
    ``MAX_DEPTH`` included, is :class:`MalformedRlp`.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise WrongShape(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        items = read_rlp(data)
    except RlpDecodeError as exc:
        raise MalformedRlp(str(exc)) from None
    try:
        accounts = _each(items, _decode_account)
    except _Misfit as misfit:
        misfit.within("accounts")
        raise misfit.as_error() from None
    # Strict decoding makes ``data`` the only encoding of the result: it is kept as its RLP.
    return BlockAccessList(accounts, _rlp=data)
