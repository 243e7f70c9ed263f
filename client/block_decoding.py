"""A block's RLP decoded into py-evm's classes, without pyrlp's per-field machinery on the usual path.

``rlp.decode(block_rlp, sedes=block_class)`` is what a block costs to decode
in py-evm: for a 200-transaction block about 12 ms here, almost all of it in
pyrlp's generic sedes walk (a generator, a kwargs merge and a validation
per field of every transaction). balrex decodes every block it imports that
way, on the node's process, before execution can start.

The same result is built here from :func:`bal.rlp_items.read_rlp` (one strict
pass over the bytes) and a decoder per py-evm class, compiled once from the
class's own ``fields``: each field is checked exactly as its sedes checks it
(a big-endian integer without a leading zero, a byte string of an allowed
length, a list) and the objects are constructed as pyrlp constructs them.

Only the usual is decoded here. Anything else (input pyrlp would refuse, a
transaction type or sedes this module does not know) raises :class:`Unusual`
inside, and the whole block is then decoded by pyrlp, so that a malformed
block is refused by the same code, with the same error, as before. A block
is therefore either decoded here into objects equal to pyrlp's, or by pyrlp.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import rlp
from eth.abc import BlockAPI, SignedTransactionAPI
from eth.vm.forks.berlin.transactions import AccessListPayloadDecoder, AccessListTransaction
from eth.vm.forks.cancun.transactions import BlobPayloadDecoder, BlobTransaction
from eth.vm.forks.london.transactions import DynamicFeePayloadDecoder, DynamicFeeTransaction
from eth.vm.forks.prague.transactions import SetCodePayloadDecoder, SetCodeTransaction
from rlp.sedes import BigEndianInt, Binary, CountableList, List
from rlp.sedes.serializable import BaseSerializable

from bal.rlp_items import LIST_OFFSET, RlpDecodeError, RlpItem, read_rlp

#: each typed-transaction payload decoder py-evm has, and the class it decodes the payload into
#: (``decoder.decode(payload)`` is ``rlp.decode(payload, sedes=cls)``)
PAYLOAD_CLASSES: dict[type, type] = {
    AccessListPayloadDecoder: AccessListTransaction,
    DynamicFeePayloadDecoder: DynamicFeeTransaction,
    BlobPayloadDecoder: BlobTransaction,
    SetCodePayloadDecoder: SetCodeTransaction,
}

#: a legacy transaction's encoding is an RLP list; a typed one's starts with its type byte (below 0x80)
LEGACY_FIRST_BYTE = bytes((LIST_OFFSET,))

#: where py-evm's ``cached_property`` keeps a typed transaction's type byte
TYPE_BYTE_CACHE = "_type_byte"

FieldDecoder = Callable[[RlpItem], Any]


class Unusual(Exception):
    """Input this module leaves to pyrlp: malformed, or of a shape it does not decode itself."""


def decode_block(block_class: type[BlockAPI], block_rlp: bytes) -> BlockAPI:
    """``rlp.decode(block_rlp, sedes=block_class)``; the usual block is decoded here (module docstring)."""
    try:
        return _decode_usual_block(block_class, block_rlp)
    except Unusual:
        decoded: BlockAPI = rlp.decode(block_rlp, sedes=block_class)
        return decoded


def decode_transaction(builder: Any, encoding: bytes) -> SignedTransactionAPI:
    """``builder.decode(encoding)``: one transaction's EIP-2718 encoding, the usual one decoded here.

    An encoding is what the Engine API carries and a transactions root hashes:
    a typed transaction's type byte and payload, a legacy one's RLP list.
    Anything this module does not decode itself goes to py-evm, which refuses
    malformed input as it always has (with its own exception kinds).
    """
    try:
        item = read_rlp(encoding) if encoding[:1] >= LEGACY_FIRST_BYTE else encoding
        return transaction_decoder(builder)(item)
    except (Unusual, RlpDecodeError):
        decoded: SignedTransactionAPI = builder.decode(encoding)
        return decoded


def _decode_usual_block(block_class: type[BlockAPI], block_rlp: bytes) -> BlockAPI:
    fields = block_class._meta.fields  # type: ignore[attr-defined]  # pyrlp's Serializable metadata
    try:
        items = read_rlp(block_rlp)
    except RlpDecodeError:
        raise Unusual from None
    if not isinstance(items, list) or len(items) != len(fields):
        raise Unusual
    values: dict[str, Any] = {}
    for (name, sedes), item in zip(fields, items, strict=True):
        builder = _transaction_builder(sedes)
        if builder is not None:
            if not isinstance(item, list):
                raise Unusual
            decode = transaction_decoder(builder)
            values[name] = tuple(decode(transaction) for transaction in item)
        else:
            values[name] = _by_sedes(sedes, item)
    block: BlockAPI = block_class(**values)
    block._cached_rlp = block_rlp  # type: ignore[attr-defined]  # as pyrlp's decode leaves it
    return block


def _transaction_builder(sedes: Any) -> Any:
    """The fork's transaction builder if ``sedes`` is a block's list of transactions, else None."""
    if not isinstance(sedes, CountableList) or sedes.max_length is not None:
        return None
    builder = sedes.element_sedes
    return builder if hasattr(builder, "typed_transaction") else None


def _by_sedes(sedes: Any, item: RlpItem) -> Any:
    """``sedes.deserialize(item)``; any refusal is left to pyrlp's decode of the whole block."""
    try:
        return sedes.deserialize(item)
    except Exception:
        raise Unusual from None


@cache
def transaction_decoder(builder: Any) -> Callable[[RlpItem], SignedTransactionAPI]:
    """``builder.deserialize`` for the usual transaction (a list: legacy; a string: typed); else Unusual."""
    legacy = _serializable_decoder(builder.legacy_signed)
    typed_class = builder.typed_transaction
    payload_decoders: dict[int, FieldDecoder] = {}
    for type_id, payload_decoder in typed_class.decoders.items():
        payload_class = PAYLOAD_CLASSES.get(payload_decoder)
        decode_fields = None if payload_class is None else _serializable_decoder(payload_class)
        if decode_fields is not None:
            payload_decoders[type_id] = decode_fields

    def decode(item: RlpItem) -> SignedTransactionAPI:
        if isinstance(item, list):
            if legacy is None:
                raise Unusual
            transaction: SignedTransactionAPI = legacy(item)
            return transaction
        decode_payload = payload_decoders.get(item[0]) if item else None
        if decode_payload is None:
            raise Unusual
        payload = item[1:]
        try:
            fields = read_rlp(payload)
        except RlpDecodeError:
            raise Unusual from None
        inner = decode_payload(fields)
        inner._cached_rlp = payload  # as ``rlp.decode(payload, sedes=...)`` leaves it
        typed: SignedTransactionAPI = typed_class(item[0], inner)
        # py-evm's cached ``_type_byte`` (``to_bytes(type_id)``), filled as its first read would
        # fill it: every transaction is encoded again to recover its sender (``client.senders``).
        typed.__dict__[TYPE_BYTE_CACHE] = item[:1]
        return typed

    return decode


@cache
def _serializable_decoder(cls: Any) -> FieldDecoder | None:
    """``cls.deserialize`` compiled from ``cls.fields``; None if a field's sedes is not one known here."""
    if cls.__init__ is not BaseSerializable.__init__:
        return None
    field_decoders = [_field_decoder(sedes) for _, sedes in cls._meta.fields]
    if any(decoder is None for decoder in field_decoders):
        return None
    decoders: list[FieldDecoder] = [decoder for decoder in field_decoders if decoder is not None]
    count = len(decoders)

    def decode(item: RlpItem) -> BaseSerializable:
        if not isinstance(item, list) or len(item) != count:
            raise Unusual
        return cls(*[decoder(value) for decoder, value in zip(decoders, item, strict=True)])

    return decode


def _field_decoder(sedes: Any) -> FieldDecoder | None:
    """What ``sedes.deserialize`` accepts and returns, for the sedes py-evm's transactions use."""
    if isinstance(sedes, BigEndianInt):
        return _minimal_int if sedes.length is None else _fixed_size_int(sedes.length)
    if isinstance(sedes, Binary):
        return _binary(sedes)
    if isinstance(sedes, CountableList):
        element = _field_decoder(sedes.element_sedes)
        return None if element is None else _countable_list(element, sedes.max_length)
    if isinstance(sedes, List) and sedes.strict:
        elements = [_field_decoder(element) for element in sedes]
        if any(element is None for element in elements):
            return None
        return _fixed_list([element for element in elements if element is not None])
    if isinstance(sedes, type) and issubclass(sedes, BaseSerializable):
        return _serializable_decoder(sedes)
    return None


def _minimal_int(item: RlpItem) -> int:
    if type(item) is not bytes or item[:1] == b"\x00":
        raise Unusual
    return int.from_bytes(item, "big")


def _fixed_size_int(size: int) -> FieldDecoder:
    def decode(item: RlpItem) -> int:
        if type(item) is not bytes or len(item) != size:
            raise Unusual
        return int.from_bytes(item, "big")

    return decode


def _binary(sedes: Binary) -> FieldDecoder:
    def decode(item: RlpItem) -> bytes:
        if type(item) is not bytes or not sedes.is_valid_length(len(item)):
            raise Unusual
        return item

    return decode


def _countable_list(element: FieldDecoder, max_length: int | None) -> FieldDecoder:
    def decode(item: RlpItem) -> tuple[Any, ...]:
        if not isinstance(item, list) or max_length is not None and len(item) > max_length:
            raise Unusual
        return tuple(element(value) for value in item)

    return decode


def _fixed_list(elements: list[FieldDecoder]) -> FieldDecoder:
    def decode(item: RlpItem) -> tuple[Any, ...]:
        if not isinstance(item, list) or len(item) != len(elements):
            raise Unusual
        return tuple(element(value) for element, value in zip(elements, item, strict=True))

    return decode
