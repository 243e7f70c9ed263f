"""EIP-2537 BLS12-381 precompiles (0x0b-0x11) on arkworks (``py-arkworks-bls12381``).

py-evm runs these in pure Python (py_ecc): a pairing check or a 128-point MSM
takes seconds there, milliseconds here. The library does the curve work only;
every encoding rule of the EIP is checked here first, so the library is only
handed 48-byte coordinates below p (its own reading of the top bits, where
arkworks' serialisation keeps flags, never comes into play) and each broken
rule raises its own error:

* a field element is 64 bytes: 16 zero bytes, then a big-endian value below p;
* a point is its coordinates (an Fp2 element as c0 then c1); all zeros is the
  point at infinity; any other point must be on the curve;
* MSM and pairing inputs must lie in the prime-order subgroup, ADD inputs not;
* MSM scalars are 32 bytes, any value (reduced modulo the group order, which
  is exact for points of the subgroup).

Any violation raises a :class:`~eth.exceptions.VMError` subclass, so the call
fails and consumes all its gas, as py-evm's versions do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth.abc import ComputationAPI
from eth.exceptions import VMError
from eth.precompiles.bls12_381.constants import (
    BLS12_G1_ADD_GAS,
    BLS12_G1_MSM_GAS,
    BLS12_G2_ADD_GAS,
    BLS12_G2_MSM_GAS,
    BLS12_MAP_FP2_G2_GAS,
    BLS12_MAP_FP_G1_GAS,
    G1_MSM_DISCOUNTS,
    G1_MSM_MAX_DISCOUNT,
    G2_MSM_DISCOUNTS,
    G2_MSM_MAX_DISCOUNT,
    MSM_MULTIPLIER,
)
from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar
from py_ecc.optimized_bls12_381 import field_modulus as FIELD_MODULUS

FIELD_ELEMENT_LENGTH = 64  # on the wire
FIELD_ELEMENT_PADDING = 16  # leading zero bytes of a field element on the wire
FIELD_ELEMENT_BYTES = FIELD_ELEMENT_LENGTH - FIELD_ELEMENT_PADDING  # what arkworks reads
SCALAR_LENGTH = 32
PAIRING_PER_PAIR_GAS = 32600
PAIRING_BASE_GAS = 37700

_ZERO_PADDING = bytes(FIELD_ELEMENT_PADDING)
# Equal-length big-endian byte strings compare as their values do.
_FIELD_MODULUS_BYTES = FIELD_MODULUS.to_bytes(FIELD_ELEMENT_BYTES, "big")


class BlsInputLengthInvalid(VMError):
    """The input is not a length the precompile takes."""


class FieldElementInvalid(VMError):
    """A field element's top 16 bytes are not zero, or its value is not below p."""


class PointNotOnCurve(VMError):
    """A point that is not the point at infinity does not satisfy the curve equation."""


class PointNotInSubgroup(VMError):
    """An MSM or pairing input point is on the curve but outside the prime-order subgroup."""


@dataclass(frozen=True)
class Group:
    """One of G1 and G2: its wire length, arkworks class and EIP-2537 prices."""

    name: str
    point_length: int
    point_class: type[G1Point] | type[G2Point]
    add_gas: int
    msm_gas: int
    msm_discounts: Sequence[int]
    msm_max_discount: int

    @property
    def msm_pair_length(self) -> int:
        return self.point_length + SCALAR_LENGTH

    def msm_gas_cost(self, pairs: int) -> int:
        """EIP-2537: ``k * gas * discount(k) / 1000``, the discount table ending at its maximum."""
        discounts = self.msm_discounts
        discount = discounts[pairs - 1] if pairs <= len(discounts) else self.msm_max_discount
        return pairs * self.msm_gas * discount // MSM_MULTIPLIER


G1 = Group("G1", 128, G1Point, BLS12_G1_ADD_GAS, BLS12_G1_MSM_GAS, G1_MSM_DISCOUNTS, G1_MSM_MAX_DISCOUNT)
G2 = Group("G2", 256, G2Point, BLS12_G2_ADD_GAS, BLS12_G2_MSM_GAS, G2_MSM_DISCOUNTS, G2_MSM_MAX_DISCOUNT)
PAIR_LENGTH = G1.point_length + G2.point_length


# -- encoding ------------------------------------------------------------------------------


def decode_field_element(data: bytes, offset: int) -> bytes:
    """The 48 big-endian value bytes of the 64-byte field element at ``offset``."""
    value = data[offset + FIELD_ELEMENT_PADDING : offset + FIELD_ELEMENT_LENGTH]
    if data[offset : offset + FIELD_ELEMENT_PADDING] != _ZERO_PADDING or value >= _FIELD_MODULUS_BYTES:
        raise FieldElementInvalid(f"field element at byte {offset} is not 16 zero bytes and a value below p")
    return value


def decode_point(group: Group, data: bytes, offset: int, *, in_subgroup: bool) -> G1Point | G2Point:
    """The ``group`` point at ``offset``; ``in_subgroup`` also requires the prime-order subgroup."""
    coordinates = b"".join(
        decode_field_element(data, element)
        for element in range(offset, offset + group.point_length, FIELD_ELEMENT_LENGTH)
    )
    try:
        # All zeros reads as the point at infinity; anything else is checked against the curve.
        point = group.point_class.from_xy_bytes_unchecked_be(coordinates)
    except ValueError as exc:
        raise PointNotOnCurve(f"{group.name} point at byte {offset} is not on the curve") from exc
    if in_subgroup and not point.is_in_subgroup():
        raise PointNotInSubgroup(f"{group.name} point at byte {offset} is not in the subgroup")
    return point


def encode_point(point: G1Point | G2Point) -> bytes:
    """The EIP-2537 encoding: each 48-byte coordinate padded to 64 bytes (infinity is all zeros)."""
    coordinates = point.to_xy_bytes_be()
    return b"".join(
        _ZERO_PADDING + coordinates[start : start + FIELD_ELEMENT_BYTES]
        for start in range(0, len(coordinates), FIELD_ELEMENT_BYTES)
    )


def _require_length(data: bytes, length: int, precompile: str) -> None:
    if len(data) != length:
        raise BlsInputLengthInvalid(f"{precompile} takes {length} bytes, not {len(data)}")


def _count_records(data: bytes, record_length: int, precompile: str) -> int:
    """How many ``record_length`` records ``data`` holds: at least one, and nothing left over."""
    count, rest = divmod(len(data), record_length)
    if count == 0 or rest:
        raise BlsInputLengthInvalid(f"{precompile} takes a positive multiple of {record_length} bytes")
    return count


# -- the operations, shared by G1 and G2 ------------------------------------------------------


def group_add(group: Group, computation: ComputationAPI) -> ComputationAPI:
    """G1ADD/G2ADD: the sum of two curve points (no subgroup check)."""
    data = computation.msg.data_as_bytes
    computation.consume_gas(group.add_gas, reason=f"BLS12_{group.name}ADD")
    _require_length(data, 2 * group.point_length, f"BLS12_{group.name}ADD")
    first = decode_point(group, data, 0, in_subgroup=False)
    second = decode_point(group, data, group.point_length, in_subgroup=False)
    computation.output = encode_point(first + second)
    return computation


def group_msm(group: Group, computation: ComputationAPI) -> ComputationAPI:
    """G1MSM/G2MSM: the sum of ``scalar_i * point_i`` over subgroup points."""
    data = computation.msg.data_as_bytes
    pair_length = group.msm_pair_length
    pairs = _count_records(data, pair_length, f"BLS12_{group.name}MSM")
    computation.consume_gas(group.msm_gas_cost(pairs), reason=f"BLS12_{group.name}MSM")
    points = []
    scalars = []
    for offset in range(0, len(data), pair_length):
        points.append(decode_point(group, data, offset, in_subgroup=True))
        scalar_start = offset + group.point_length
        scalars.append(Scalar.from_be_bytes_mod_order(data[scalar_start : scalar_start + SCALAR_LENGTH]))
    computation.output = encode_point(group.point_class.multiexp_unchecked(points, scalars))
    return computation


# -- the precompiles ---------------------------------------------------------------------------


def bls12_g1_add(computation: ComputationAPI) -> ComputationAPI:
    return group_add(G1, computation)


def bls12_g2_add(computation: ComputationAPI) -> ComputationAPI:
    return group_add(G2, computation)


def bls12_g1_msm(computation: ComputationAPI) -> ComputationAPI:
    return group_msm(G1, computation)


def bls12_g2_msm(computation: ComputationAPI) -> ComputationAPI:
    return group_msm(G2, computation)


def bls12_pairing_check(computation: ComputationAPI) -> ComputationAPI:
    """PAIRING_CHECK: 1 (as a 32-byte word) iff the product of ``e(P_i, Q_i)`` is one."""
    data = computation.msg.data_as_bytes
    pairs = _count_records(data, PAIR_LENGTH, "BLS12_PAIRING_CHECK")
    computation.consume_gas(PAIRING_PER_PAIR_GAS * pairs + PAIRING_BASE_GAS, reason="BLS12_PAIRING_CHECK")
    g1_points = []
    g2_points = []
    for offset in range(0, len(data), PAIR_LENGTH):
        g1_points.append(decode_point(G1, data, offset, in_subgroup=True))
        g2_points.append(decode_point(G2, data, offset + G1.point_length, in_subgroup=True))
    computation.output = (1 if GT.pairing_check(g1_points, g2_points) else 0).to_bytes(32, "big")
    return computation


def bls12_map_fp_to_g1(computation: ComputationAPI) -> ComputationAPI:
    """MAP_FP_TO_G1: the SSWU map of an Fp element, cofactor cleared."""
    data = computation.msg.data_as_bytes
    computation.consume_gas(BLS12_MAP_FP_G1_GAS, reason="BLS12_MAP_FP_TO_G1")
    _require_length(data, FIELD_ELEMENT_LENGTH, "BLS12_MAP_FP_TO_G1")
    computation.output = encode_point(G1Point.map_from_fp_be(decode_field_element(data, 0)))
    return computation


def bls12_map_fp2_to_g2(computation: ComputationAPI) -> ComputationAPI:
    """MAP_FP2_TO_G2: the SSWU map of an Fp2 element (c0 then c1), cofactor cleared."""
    data = computation.msg.data_as_bytes
    computation.consume_gas(BLS12_MAP_FP2_G2_GAS, reason="BLS12_MAP_FP2_TO_G2")
    _require_length(data, 2 * FIELD_ELEMENT_LENGTH, "BLS12_MAP_FP2_TO_G2")
    element = decode_field_element(data, 0) + decode_field_element(data, FIELD_ELEMENT_LENGTH)
    computation.output = encode_point(G2Point.map_from_fp2_be(element))
    return computation
