"""client/forks/precompiles/: the native precompiles against py-evm's own versions.

py-evm's BLS12-381 precompiles (py_ecc, pure Python), its point evaluation and
its ECRECOVER (through eth-keys) are the reference: on every input, valid or
not, the native version must give the same output and gas, or fail the same
way (a ``VMError``, which makes the call consume all its gas).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ckzg
import eth.precompiles.point_evaluation as pyevm_point_evaluation
import pytest
from eth import precompiles as pyevm
from eth.exceptions import VMError
from eth.vm.forks.cancun.constants import BLS_MODULUS
from eth_keys import keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc.bls.hash_to_curve import map_to_curve_G1, map_to_curve_G2
from py_ecc.fields import optimized_bls12_381_FQ as FQ
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
from py_ecc.optimized_bls12_381 import G1, G2, curve_order, field_modulus, multiply, normalize

from client.forks.amsterdam.computation import AmsterdamComputation
from client.forks.cancun import CancunStoreComputation
from client.forks.osaka import OsakaStoreComputation
from client.forks.prague import PragueStoreComputation
from client.forks.precompiles import NATIVE_CANCUN_PRECOMPILES, NATIVE_PRAGUE_PRECOMPILES
from client.forks.precompiles import bls12_381 as native
from client.forks.precompiles.ecrecover import ecrecover
from client.forks.precompiles.point_evaluation import (
    SUCCESS_OUTPUT,
    kzg_to_versioned_hash,
    point_evaluation,
    trusted_setup,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# py_ecc is slow: pairings and subgroup checks in pure Python take up to a second each.
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- running a precompile on a minimal computation -----------------------------------------


@dataclass
class FakeMessage:
    data: bytes

    @property
    def data_as_bytes(self) -> bytes:
        return self.data


@dataclass
class FakeComputation:
    """What a precompile touches: the input, the gas it charges, the output."""

    msg: FakeMessage
    gas_charged: int = 0
    output: bytes = field(default=b"")

    def consume_gas(self, amount: int, reason: str) -> None:
        self.gas_charged += amount


Outcome = tuple[str, bytes, int]


def outcome(precompile: Callable, data: bytes) -> Outcome:
    """("ok", output, gas) or ("fail", b"", 0): a failing call consumes all gas, whatever it charged."""
    computation = FakeComputation(FakeMessage(data))
    try:
        precompile(computation)
    except VMError:
        return ("fail", b"", 0)
    return ("ok", computation.output, computation.gas_charged)


def assert_same(native_precompile: Callable, reference: Callable, data: bytes) -> Outcome:
    result = outcome(native_precompile, data)
    assert result == outcome(reference, data)
    return result


# -- encodings of points and field elements, valid and not -----------------------------------


def fp(value: int) -> bytes:
    return value.to_bytes(64, "big")


def encode_g1(point) -> bytes:
    x, y = normalize(point)
    return fp(int(x)) + fp(int(y))


def encode_g2(point) -> bytes:
    x, y = normalize(point)
    return b"".join(fp(int(c)) for c in (*x.coeffs, *y.coeffs))


field_values = st.integers(0, field_modulus - 1)
scalars = st.one_of(st.integers(0, 2**256 - 1), st.sampled_from([0, 1, curve_order - 1, curve_order]))
small_scalars = st.integers(1, 2**64)  # subgroup points as k * generator: keeps py_ecc's part short


def corrupt_field_element(data: bytes, draw) -> bytes:
    """``data`` with one of its 64-byte field elements made invalid: a non-zero pad byte or a value >= p."""
    index = draw(st.integers(0, len(data) // 64 - 1)) * 64
    if draw(st.booleans()):
        pad_byte = draw(st.integers(0, 15))
        element = bytearray(data[index : index + 64])
        element[pad_byte] = draw(st.integers(1, 255))
        bad = bytes(element)
    else:
        bad = draw(st.integers(field_modulus, 2**384 - 1)).to_bytes(64, "big")
    return data[:index] + bad + data[index + 64 :]


@st.composite
def g1_encodings(draw, kinds=("subgroup", "infinity", "off_subgroup", "off_curve", "bad_field")) -> bytes:
    kind = draw(st.sampled_from(kinds))
    if kind == "subgroup":
        return encode_g1(multiply(G1, draw(small_scalars)))
    if kind == "infinity":
        return bytes(128)
    if kind == "off_subgroup":
        # The SSWU map without cofactor clearing lands on the curve, outside the subgroup.
        return encode_g1(map_to_curve_G1(FQ(draw(field_values))))
    if kind == "off_curve":
        return fp(draw(field_values)) + fp(draw(field_values))
    return corrupt_field_element(encode_g1(multiply(G1, draw(small_scalars))), draw)


@st.composite
def g2_encodings(draw, kinds=("subgroup", "infinity", "off_subgroup", "off_curve", "bad_field")) -> bytes:
    kind = draw(st.sampled_from(kinds))
    if kind == "subgroup":
        return encode_g2(multiply(G2, draw(small_scalars)))
    if kind == "infinity":
        return bytes(256)
    if kind == "off_subgroup":
        return encode_g2(map_to_curve_G2(FQ2((draw(field_values), draw(field_values)))))
    if kind == "off_curve":
        return b"".join(fp(draw(field_values)) for _ in range(4))
    return corrupt_field_element(encode_g2(multiply(G2, draw(small_scalars))), draw)


@st.composite
def wrong_length(draw, data: bytes) -> bytes:
    """``data`` cut short or with bytes added (never empty and never its own length)."""
    if draw(st.booleans()) and len(data) > 1:
        return data[: draw(st.integers(1, len(data) - 1))]
    return data + bytes(draw(st.integers(1, 100)))


# -- EIP-2537 ---------------------------------------------------------------------------------


@SLOW
@given(first=g1_encodings(), second=g1_encodings(), cut=st.booleans(), data=st.data())
def test_g1_add_matches_py_evm(first: bytes, second: bytes, cut: bool, data) -> None:
    payload = first + second
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_g1_add, pyevm.bls12_g1_add, payload)


@SLOW
@given(first=g2_encodings(), second=g2_encodings(), cut=st.booleans(), data=st.data())
def test_g2_add_matches_py_evm(first: bytes, second: bytes, cut: bool, data) -> None:
    payload = first + second
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_g2_add, pyevm.bls12_g2_add, payload)


def test_add_of_points_outside_the_subgroup_succeeds() -> None:
    """EIP-2537 asks no subgroup check of ADD inputs: the sum is the curve's."""
    first = encode_g1(map_to_curve_G1(FQ(5)))
    second = encode_g1(map_to_curve_G1(FQ(7)))
    kind, output, gas = assert_same(native.bls12_g1_add, pyevm.bls12_g1_add, first + second)
    assert (kind, gas) == ("ok", 375)
    assert output != bytes(128)


@SLOW
@given(
    pairs=st.lists(st.tuples(g1_encodings(), scalars), min_size=1, max_size=3),
    cut=st.booleans(),
    data=st.data(),
)
def test_g1_msm_matches_py_evm(pairs: list[tuple[bytes, int]], cut: bool, data) -> None:
    payload = b"".join(point + scalar.to_bytes(32, "big") for point, scalar in pairs)
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_g1_msm, pyevm.bls12_g1_msm, payload)


@SLOW
@given(
    pairs=st.lists(st.tuples(g2_encodings(), scalars), min_size=1, max_size=2),
    cut=st.booleans(),
    data=st.data(),
)
def test_g2_msm_matches_py_evm(pairs: list[tuple[bytes, int]], cut: bool, data) -> None:
    payload = b"".join(point + scalar.to_bytes(32, "big") for point, scalar in pairs)
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_g2_msm, pyevm.bls12_g2_msm, payload)


VALID_POINTS = ("subgroup", "infinity")


@SLOW
@given(
    g1_pairs=st.lists(st.tuples(g1_encodings(VALID_POINTS), scalars), min_size=1, max_size=3),
    g2_pairs=st.lists(st.tuples(g2_encodings(VALID_POINTS), scalars), min_size=1, max_size=2),
)
def test_msm_of_subgroup_points_matches_py_evm(g1_pairs, g2_pairs) -> None:
    """The success path (random kinds mostly fail early): scalars up to 2**256, also >= the order."""
    g1_payload = b"".join(point + scalar.to_bytes(32, "big") for point, scalar in g1_pairs)
    g2_payload = b"".join(point + scalar.to_bytes(32, "big") for point, scalar in g2_pairs)
    assert assert_same(native.bls12_g1_msm, pyevm.bls12_g1_msm, g1_payload)[0] == "ok"
    assert assert_same(native.bls12_g2_msm, pyevm.bls12_g2_msm, g2_payload)[0] == "ok"


def gas_charged(precompile: Callable, data: bytes) -> int:
    """The gas ``precompile`` charges for ``data``, counted up to a failure if one comes."""
    computation = FakeComputation(FakeMessage(data))
    try:
        precompile(computation)
    except VMError:
        pass
    return computation.gas_charged


@pytest.mark.parametrize("pairs", [1, 2, 3, 64, 127, 128, 129, 200])
def test_msm_gas_follows_the_discount_table(pairs: int) -> None:
    """Both charge before decoding: a first point off the curve stops py_ecc early on any input size."""
    off_curve_g1 = fp(1) + fp(1)
    off_curve_g2 = fp(1) * 4
    g1_payload = (off_curve_g1 + bytes(32)) * pairs
    g2_payload = (off_curve_g2 + bytes(32)) * pairs
    assert gas_charged(native.bls12_g1_msm, g1_payload) == gas_charged(pyevm.bls12_g1_msm, g1_payload) > 0
    assert gas_charged(native.bls12_g2_msm, g2_payload) == gas_charged(pyevm.bls12_g2_msm, g2_payload) > 0


def test_msm_of_infinity_is_infinity() -> None:
    payload = (bytes(128) + (5).to_bytes(32, "big")) * 2
    assert assert_same(native.bls12_g1_msm, pyevm.bls12_g1_msm, payload)[:2] == ("ok", bytes(128))


def test_msm_rejects_a_point_outside_the_subgroup() -> None:
    payload = encode_g1(map_to_curve_G1(FQ(5))) + (1).to_bytes(32, "big")
    assert assert_same(native.bls12_g1_msm, pyevm.bls12_g1_msm, payload)[0] == "fail"
    with pytest.raises(native.PointNotInSubgroup):
        native.bls12_g1_msm(FakeComputation(FakeMessage(payload)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(st.tuples(g1_encodings(), g2_encodings()), min_size=1, max_size=2),
    cut=st.booleans(),
    data=st.data(),
)
def test_pairing_check_matches_py_evm(pairs: list[tuple[bytes, bytes]], cut: bool, data) -> None:
    payload = b"".join(g1 + g2 for g1, g2 in pairs)
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_pairing_check, pyevm.bls12_pairing_check, payload)


@pytest.mark.parametrize(("a", "b", "expected"), [(3, 5, 1), (3, 4, 0)])
def test_pairing_check_of_a_relation(a: int, b: int, expected: int) -> None:
    """e(aG1, bG2) * e(-15 G1, G2) is one exactly when a * b == 15."""
    payload = encode_g1(multiply(G1, a)) + encode_g2(multiply(G2, b))
    payload += encode_g1(multiply(G1, curve_order - 15)) + encode_g2(G2)
    kind, output, gas = assert_same(native.bls12_pairing_check, pyevm.bls12_pairing_check, payload)
    assert (kind, output, gas) == ("ok", expected.to_bytes(32, "big"), 32600 * 2 + 37700)


@st.composite
def fp_encodings(draw) -> bytes:
    element = fp(draw(field_values))
    return corrupt_field_element(element, draw) if draw(st.booleans()) else element


@SLOW
@given(element=fp_encodings(), cut=st.booleans(), data=st.data())
def test_map_fp_to_g1_matches_py_evm(element: bytes, cut: bool, data) -> None:
    if cut:
        element = data.draw(wrong_length(element))
    assert_same(native.bls12_map_fp_to_g1, pyevm.bls12_map_fp_to_g1, element)


@SLOW
@given(c0=fp_encodings(), c1=fp_encodings(), cut=st.booleans(), data=st.data())
def test_map_fp2_to_g2_matches_py_evm(c0: bytes, c1: bytes, cut: bool, data) -> None:
    payload = c0 + c1
    if cut:
        payload = data.draw(wrong_length(payload))
    assert_same(native.bls12_map_fp2_to_g2, pyevm.bls12_map_fp2_to_g2, payload)


@pytest.mark.parametrize("precompile", [native.bls12_g1_msm, native.bls12_g2_msm, native.bls12_pairing_check])
def test_empty_input_fails(precompile: Callable) -> None:
    with pytest.raises(native.BlsInputLengthInvalid):
        precompile(FakeComputation(FakeMessage(b"")))


def test_a_flag_bit_is_an_invalid_field_element() -> None:
    """arkworks' serialisation has flag bits at the top of a coordinate; the EIP has none: 0x40... is >= p."""
    flagged = bytes(16) + b"\x40" + bytes(47) + bytes(64)
    with pytest.raises(native.FieldElementInvalid):
        native.bls12_g1_add(FakeComputation(FakeMessage(flagged + bytes(128))))


# -- EIP-4844 point evaluation ------------------------------------------------------------------


@pytest.fixture(scope="module")
def kzg_claim() -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """A true claim ``(versioned_hash, z, y, commitment, proof)`` about a blob."""
    blob = b"".join((i * 7919 % BLS_MODULUS).to_bytes(32, "big") for i in range(4096))
    commitment = ckzg.blob_to_kzg_commitment(blob, trusted_setup())
    z = (123456789).to_bytes(32, "big")
    proof, y = ckzg.compute_kzg_proof(blob, z, trusted_setup())
    return kzg_to_versioned_hash(commitment), z, y, commitment, proof


@pytest.fixture
def reference_point_evaluation(monkeypatch: pytest.MonkeyPatch) -> Callable:
    """py-evm's version with the setup it would parse on every call handed in already parsed."""
    monkeypatch.setattr(pyevm_point_evaluation, "load_trusted_setup", lambda *_: trusted_setup())
    return pyevm_point_evaluation.point_evaluation_precompile


def _claim_variants(claim: tuple[bytes, ...]) -> dict[str, bytes]:
    versioned_hash, z, y, commitment, proof = claim
    other_y = ((int.from_bytes(y, "big") + 1) % BLS_MODULUS).to_bytes(32, "big")
    return {
        "true": versioned_hash + z + y + commitment + proof,
        "wrong y": versioned_hash + z + other_y + commitment + proof,
        "z >= modulus": versioned_hash + BLS_MODULUS.to_bytes(32, "big") + y + commitment + proof,
        "wrong versioned hash": b"\x02" + versioned_hash[1:] + z + y + commitment + proof,
        "proof not a point": versioned_hash + z + y + commitment + b"\x80" + bytes(47),
        "short": (versioned_hash + z + y + commitment + proof)[:191],
        "long": versioned_hash + z + y + commitment + proof + b"\x00",
    }


@pytest.mark.parametrize(
    "variant",
    ["true", "wrong y", "z >= modulus", "wrong versioned hash", "proof not a point", "short", "long"],
)
def test_point_evaluation_matches_py_evm(kzg_claim, reference_point_evaluation, variant: str) -> None:
    result = assert_same(point_evaluation, reference_point_evaluation, _claim_variants(kzg_claim)[variant])
    assert result == (("ok", SUCCESS_OUTPUT, 50_000) if variant == "true" else ("fail", b"", 0))


# -- ECRECOVER --------------------------------------------------------------------------------


@st.composite
def ecrecover_inputs(draw) -> bytes:
    message_hash = draw(st.binary(min_size=32, max_size=32))
    if draw(st.booleans()):
        key = keys.PrivateKey(draw(st.integers(1, SECP256K1_N - 1)).to_bytes(32, "big"))
        v, r, s = key.sign_msg_hash(message_hash).vrs
        v += 27
    else:
        edge = st.sampled_from([0, 1, SECP256K1_N - 1, SECP256K1_N, 2**256 - 1])
        r = draw(st.one_of(edge, st.integers(0, 2**256 - 1)))
        s = draw(st.one_of(edge, st.integers(0, 2**256 - 1)))
        v = draw(st.one_of(st.sampled_from([0, 1, 26, 27, 28, 29]), st.integers(0, 2**256 - 1)))
    payload = message_hash + b"".join(value.to_bytes(32, "big") for value in (v, r, s))
    return payload[: draw(st.integers(0, 160))]


@settings(max_examples=300, deadline=None)
@given(payload=ecrecover_inputs())
def test_ecrecover_matches_py_evm(payload: bytes) -> None:
    assert_same(ecrecover, pyevm.ecrecover, payload)


def test_ecrecover_recovers_the_signer() -> None:
    key = keys.PrivateKey(b"\x11" * 32)
    message_hash = b"\x22" * 32
    v, r, s = key.sign_msg_hash(message_hash).vrs
    payload = message_hash + b"".join(value.to_bytes(32, "big") for value in (v + 27, r, s))
    assert outcome(ecrecover, payload) == ("ok", bytes(12) + key.public_key.to_canonical_address(), 3000)


# -- registration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("computation_class", "natives"),
    [
        (CancunStoreComputation, NATIVE_CANCUN_PRECOMPILES),
        (PragueStoreComputation, NATIVE_PRAGUE_PRECOMPILES),
        (OsakaStoreComputation, NATIVE_PRAGUE_PRECOMPILES),
        (AmsterdamComputation, NATIVE_PRAGUE_PRECOMPILES),
    ],
)
def test_forks_run_the_native_precompiles(computation_class, natives) -> None:
    precompiles = computation_class.get_precompiles()
    assert {address: precompiles[address] for address in natives} == natives
