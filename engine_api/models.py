"""Pydantic models of the Engine API objects (camelCase on the wire, hex quantities and bytes).

Hex rules (execution-apis, ``src/schemas/base-types.yaml``): a QUANTITY is
``0x`` followed by hex digits without leading zeros (``0x0`` for zero); DATA is
``0x`` followed by an even number of hex digits; fixed-size DATA (hashes,
addresses, the bloom, payload ids) must have exactly that many bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationInfo
from pydantic.alias_generators import to_camel

from bal.hex_text import hex_data

QUANTITY_RE = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]*)")
_MAX_UINT256 = 2**256 - 1


def _from_wire(info: ValidationInfo) -> bool:
    """Request params are validated with ``context=WIRE``: only JSON strings are accepted then."""
    return bool(info.context and info.context.get("wire"))


WIRE = {"wire": True}


def _quantity(value: Any, info: ValidationInfo) -> int:
    if not _from_wire(info) and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str) or not QUANTITY_RE.fullmatch(value):
        raise ValueError("expected a hex quantity: 0x followed by hex digits without leading zeros")
    number = int(value, 16)
    if number > _MAX_UINT256:
        raise ValueError("quantity above 2**256-1")
    return number


def _data(size: int | None) -> Callable[[Any, ValidationInfo], bytes]:
    def parse(value: Any, info: ValidationInfo) -> bytes:
        if isinstance(value, bytes) and not _from_wire(info):  # built in Python (responses)
            raw = value
        else:
            raw = hex_data(value)
            if raw is None:
                raise ValueError("expected hex data: 0x followed by an even number of hex digits")
        if size is not None and len(raw) != size:
            raise ValueError(f"expected {size} bytes, got {len(raw)}")
        return raw

    return parse


def _hex_bytes(value: bytes) -> str:
    return "0x" + value.hex()


Quantity = Annotated[int, BeforeValidator(_quantity), PlainSerializer(hex, return_type=str)]
Data = Annotated[bytes, BeforeValidator(_data(None)), PlainSerializer(_hex_bytes, return_type=str)]
Bytes8 = Annotated[bytes, BeforeValidator(_data(8)), PlainSerializer(_hex_bytes, return_type=str)]
Address = Annotated[bytes, BeforeValidator(_data(20)), PlainSerializer(_hex_bytes, return_type=str)]
Hash32 = Annotated[bytes, BeforeValidator(_data(32)), PlainSerializer(_hex_bytes, return_type=str)]
Bloom = Annotated[bytes, BeforeValidator(_data(256)), PlainSerializer(_hex_bytes, return_type=str)]


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    def to_json(self, *, exclude_none: bool = False) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=exclude_none)


class WithdrawalV1(Model):
    index: Quantity
    validator_index: Quantity
    address: Address
    amount: Quantity  # in gwei


class ExecutionPayloadV3(Model):
    """Cancun's payload; Prague sends the same object (its requests travel beside it)."""

    parent_hash: Hash32
    fee_recipient: Address
    state_root: Hash32
    receipts_root: Hash32
    logs_bloom: Bloom
    prev_randao: Hash32
    block_number: Quantity
    gas_limit: Quantity
    gas_used: Quantity
    timestamp: Quantity
    extra_data: Data
    base_fee_per_gas: Quantity
    block_hash: Hash32
    transactions: list[Data]
    withdrawals: list[WithdrawalV1]
    blob_gas_used: Quantity
    excess_blob_gas: Quantity


class ExecutionPayloadV4(ExecutionPayloadV3):
    """Amsterdam's payload (execution-apis amsterdam.md): V3 plus the BAL and the slot number."""

    block_access_list: Data  # RLP of the EIP-7928 block access list
    slot_number: Quantity  # EIP-7843


class ForkchoiceStateV1(Model):
    head_block_hash: Hash32
    safe_block_hash: Hash32
    finalized_block_hash: Hash32


class PayloadAttributesV3(Model):
    timestamp: Quantity
    prev_randao: Hash32
    suggested_fee_recipient: Address
    withdrawals: list[WithdrawalV1]
    parent_beacon_block_root: Hash32


class PayloadAttributesV4(PayloadAttributesV3):
    slot_number: Quantity


PayloadStatus = Literal["VALID", "INVALID", "SYNCING", "ACCEPTED"]


class PayloadStatusV1(Model):
    status: PayloadStatus
    latest_valid_hash: Hash32 | None = None
    validation_error: str | None = None


class ForkchoiceUpdatedResponseV1(Model):
    payload_status: PayloadStatusV1
    payload_id: Bytes8 | None = None


class ClientVersionV1(Model):
    code: str
    name: str
    version: str
    commit: str  # 4 bytes, hex


class ExecutionPayloadBodyV1(Model):
    transactions: list[Data]
    withdrawals: list[WithdrawalV1] | None


class ExecutionPayloadBodyV2(ExecutionPayloadBodyV1):
    block_access_list: Data | None  # RLP of the BAL; null before Amsterdam (or if pruned)


class BlockV1(Model):
    """The header part of an ``eth_getBlockBy*`` answer; transactions are hashes only."""

    number: Quantity
    hash: Hash32
    parent_hash: Hash32
    nonce: Bytes8
    sha3_uncles: Hash32
    logs_bloom: Bloom
    transactions_root: Hash32
    state_root: Hash32
    receipts_root: Hash32
    miner: Address
    difficulty: Quantity
    extra_data: Data
    size: Quantity
    gas_limit: Quantity
    gas_used: Quantity
    timestamp: Quantity
    mix_hash: Hash32
    base_fee_per_gas: Quantity | None = None
    withdrawals_root: Hash32 | None = None
    blob_gas_used: Quantity | None = None
    excess_blob_gas: Quantity | None = None
    parent_beacon_block_root: Hash32 | None = None
    requests_hash: Hash32 | None = None
    block_access_list_hash: Hash32 | None = None
    slot_number: Quantity | None = None
    transactions: list[Hash32]
    uncles: list[Hash32]
    withdrawals: list[WithdrawalV1] | None = None
