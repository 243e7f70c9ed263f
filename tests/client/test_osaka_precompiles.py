"""client/forks/osaka_precompiles.py: MODEXP under EIP-7823/7883 and P256VERIFY (EIP-7951).

Signatures are made with pycryptodome (its own curve arithmetic), never with the verifier under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pytest
from Crypto.Hash import SHA256
from Crypto.PublicKey import ECC
from Crypto.Signature import DSS
from eth.exceptions import OutOfGas, VMError
from eth.vm.gas_meter import GasMeter
from hypothesis import given, settings
from hypothesis import strategies as st

from client.forks.osaka_precompiles import (
    P256VERIFY_ADDRESS,
    modexp_osaka,
    p256verify,
)

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
VALID = (1).to_bytes(32, "big")
BIG_GAS = 10**12


# --- a minimal computation: the three things a precompile touches --------------------------


@dataclass
class FakeMessage:
    data: bytes

    @property
    def data_as_bytes(self) -> bytes:
        return self.data


@dataclass
class FakeComputation:
    msg: FakeMessage
    gas_meter: GasMeter
    output: bytes = field(default=b"")

    def consume_gas(self, amount: int, reason: str) -> None:
        # py-evm's own meter: raises OutOfGas when amount exceeds what is left.
        self.gas_meter.consume_gas(amount, reason)

    @property
    def gas_used(self) -> int:
        return self.gas_meter.start_gas - self.gas_meter.gas_remaining


def run(precompile, data: bytes, gas: int = BIG_GAS) -> FakeComputation:
    computation = FakeComputation(FakeMessage(data), GasMeter(gas))
    computation.output = b"\xde\xad"  # must be overwritten by the precompile
    result = precompile(computation)
    assert result is computation
    return computation


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def modexp_input(base: bytes, exp: bytes, mod: bytes) -> bytes:
    return word(len(base)) + word(len(exp)) + word(len(mod)) + base + exp + mod


def be(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


# --- MODEXP: gas ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "exp", "mod", "gas"),
    [
        # tiny everything: 16 * 2 = 32 -> the 500 floor
        (be(3, 1), be(5, 1), be(7, 1), 500),
        # zero exponent: iterations 0 -> 1, still the floor
        (be(3, 32), be(0, 32), be(7, 32), 500),
        # mx <= 32: complexity 16; 32-byte exponent with the top bit set: 255 iterations
        (be(3, 32), be(1 << 255, 32), be(7, 32), 16 * 255),
        # mx = 33: words 5, complexity 2 * 25 = 50; exponent 2**20 -> 20 iterations -> 1000
        (be(3, 33), be(1 << 20, 3), be(7, 1), 50 * 20),
        # mx = 64 (from the modulus): words 8 -> 128; 255 iterations
        (be(3, 1), be(1 << 255, 32), be(7, 64), 128 * 255),
        # large exponent, mx <= 32: 16 * (64 - 32) + 255 = 767 iterations
        (be(3, 32), b"\xff" * 64, be(7, 32), 16 * 767),
        # el > 32 with a zero head: 16 * (33 - 32) + 0 = 16 iterations -> 256 -> floor
        (be(3, 1), b"\x00" * 32 + b"\xff", be(7, 1), 500),
        # el > 32, zero head, mx = 200: words 25 -> 1250; 16 * (40 - 32) = 128 iterations
        (be(3, 200), b"\x00" * 32 + b"\xff" * 8, be(7, 1), 1250 * 128),
        # mx = 1024: words 128 -> 32768; exponent 1 -> iterations max(0, 1)
        (be(3, 1024), be(1, 1), be(7, 1024), 32768),
    ],
)
def test_modexp_gas_hand_computed(base: bytes, exp: bytes, mod: bytes, gas: int) -> None:
    data = modexp_input(base, exp, mod)
    assert run(modexp_osaka, data, gas).gas_used == gas
    with pytest.raises(OutOfGas):
        run(modexp_osaka, data, gas - 1)


def test_modexp_gas_has_no_divisor_unlike_eip2565() -> None:
    # 32-byte base/modulus, 32-byte exponent 2**100: 16 * 100 = 1600 (EIP-2565 would give 200).
    data = modexp_input(be(2, 32), be(1 << 100, 32), be(10**9 + 7, 32))
    assert run(modexp_osaka, data).gas_used == 1600


def test_modexp_head_is_read_from_padding_when_exponent_is_truncated() -> None:
    # Declared el = 32 but only one exponent byte present (0x80): head = 0x80 << 248 -> 255 iterations.
    data = word(1) + word(32) + word(1) + b"\x02" + b"\x80"
    assert run(modexp_osaka, data).gas_used == 16 * 255


# --- MODEXP: EIP-7823 bound ------------------------------------------------------------------


@pytest.mark.parametrize("which", [0, 1, 2])
def test_modexp_1024_is_allowed(which: int) -> None:
    lengths = [1, 1, 1]
    lengths[which] = 1024
    data = b"".join(word(n) for n in lengths)  # no payload: everything is zero-padded
    computation = run(modexp_osaka, data)
    assert computation.gas_used >= 500
    assert computation.output == b"\x00" * lengths[2]


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("length", [1025, 2**32, 2**256 - 1])
def test_modexp_over_1024_halts_before_charging(which: int, length: int) -> None:
    lengths = [0, 0, 0]
    lengths[which] = length
    data = b"".join(word(n) for n in lengths)
    computation = FakeComputation(FakeMessage(data), GasMeter(BIG_GAS))
    with pytest.raises(VMError) as excinfo:
        modexp_osaka(computation)
    assert not isinstance(excinfo.value, OutOfGas)
    assert computation.gas_used == 0
    # ... also with no gas at all: the bound is checked first
    with pytest.raises(VMError) as excinfo:
        modexp_osaka(FakeComputation(FakeMessage(data), GasMeter(0)))
    assert not isinstance(excinfo.value, OutOfGas)


def test_modexp_bound_uses_declared_length_even_for_short_data() -> None:
    with pytest.raises(VMError):
        run(modexp_osaka, word(1) + word(1025))  # ml word missing entirely, el declared too long


# --- MODEXP: output --------------------------------------------------------------------------


def test_modexp_empty_base_is_zero_and_zero_to_the_zero_is_one() -> None:
    assert run(modexp_osaka, modexp_input(b"", b"", be(5, 1))).output == b"\x01"
    assert run(modexp_osaka, modexp_input(b"", be(0, 4), be(5, 3))).output == b"\x00\x00\x01"
    assert run(modexp_osaka, modexp_input(b"", be(3, 1), be(5, 2))).output == b"\x00\x00"
    # 0 ** 0 mod 1 is 0
    assert run(modexp_osaka, modexp_input(b"", b"", be(1, 1))).output == b"\x00"


def test_modexp_zero_modulus_gives_ml_zero_bytes() -> None:
    computation = run(modexp_osaka, modexp_input(be(3, 1), be(5, 1), be(0, 3)))
    assert computation.output == b"\x00" * 3
    assert computation.gas_used == 500


def test_modexp_no_base_no_modulus_is_empty() -> None:
    computation = run(modexp_osaka, modexp_input(b"", be(7, 5), b""))
    assert computation.output == b""
    assert computation.gas_used == 500
    assert run(modexp_osaka, b"").output == b""
    assert run(modexp_osaka, b"").gas_used == 500


def test_modexp_zero_modulus_length_with_base_is_empty() -> None:
    assert run(modexp_osaka, modexp_input(be(3, 1), be(5, 1), b"")).output == b""


def test_modexp_short_input_is_right_padded() -> None:
    # bl=1 el=1 ml=2; base 2, exp 3, modulus only has its first byte 0x01 -> 0x0100 = 256.
    data = word(1) + word(1) + word(2) + b"\x02\x03\x01"
    assert run(modexp_osaka, data).output == be(8, 2)
    # truncated inside the length words: bl = 0x01 << 248 would be huge; here the third
    # word is 0x02 followed by zero padding -> ml = 2 << 248 > 1024 -> halt.
    with pytest.raises(VMError):
        run(modexp_osaka, word(0) + word(0) + b"\x02")
    # base cut short: declared bl=2, only 0x03 present -> base 0x0300
    data = word(2) + word(1) + word(2) + b"\x03"
    assert run(modexp_osaka, data).output == be(0, 2)  # exp byte missing -> exp 0 ... mod 0
    data = word(2) + word(1) + word(2) + b"\x03\x00" + b"\x02" + b"\xff"  # mod 0xff00
    assert run(modexp_osaka, data).output == be(pow(0x0300, 2, 0xFF00), 2)


def test_modexp_extra_trailing_data_is_ignored() -> None:
    data = modexp_input(be(4, 1), be(13, 1), be(497, 2))
    assert run(modexp_osaka, data + b"\xff" * 40).output == be(pow(4, 13, 497), 2)


def test_modexp_large_operands() -> None:
    base = bytes(range(256)) * 4
    exp = b"\xff" * 1024
    mod = bytes(reversed(base))
    computation = run(modexp_osaka, modexp_input(base, exp, mod))
    expected = pow(int.from_bytes(base, "big"), int.from_bytes(exp, "big"), int.from_bytes(mod, "big"))
    assert computation.output == expected.to_bytes(1024, "big")
    # 2 * 128**2 * (16 * 992 + 255)
    assert computation.gas_used == 32768 * (16 * 992 + 255)


@settings(max_examples=150, deadline=None)
@given(
    base=st.binary(max_size=70),
    exp=st.binary(max_size=40),
    mod=st.binary(max_size=70),
)
def test_modexp_matches_python_pow(base: bytes, exp: bytes, mod: bytes) -> None:
    output = run(modexp_osaka, modexp_input(base, exp, mod)).output
    b, e, m = (int.from_bytes(x, "big") for x in (base, exp, mod))
    if not base and not mod:
        assert output == b""
    elif m == 0:
        assert output == b"\x00" * len(mod)
    else:
        assert output == pow(b, e, m).to_bytes(len(mod), "big")


# --- P256VERIFY ------------------------------------------------------------------------------


def test_p256verify_address() -> None:
    assert P256VERIFY_ADDRESS == bytes(18) + b"\x01\x00"
    assert len(P256VERIFY_ADDRESS) == 20


def sign(key: ECC.EccKey, message: bytes, mode: str = "fips-186-3") -> bytes:
    """h | r | s | qx | qy for ``message`` signed by pycryptodome."""
    digest = SHA256.new(message)
    signature = DSS.new(key, mode).sign(digest)
    assert len(signature) == 64
    q = key.pointQ
    return digest.digest() + signature + word(int(q.x)) + word(int(q.y))


def fields(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]


def pack(*values: int) -> bytes:
    return b"".join(word(v) for v in values)


def sign_raw_hash(d: int, h: int, k: int) -> bytes:
    """ECDSA over an arbitrary 256-bit h, using pycryptodome's point arithmetic for k*G."""
    point = ECC.construct(curve="P-256", d=k).pointQ  # k * G
    r = int(point.x) % N
    s = pow(k, -1, N) * (h + r * d) % N
    q = ECC.construct(curve="P-256", d=d).pointQ
    return pack(h, r, s, int(q.x), int(q.y))


@pytest.fixture(scope="module")
def key() -> ECC.EccKey:
    return ECC.generate(curve="P-256")


@pytest.fixture(scope="module")
def signed(key: ECC.EccKey) -> bytes:
    return sign(key, b"balrex osaka p256verify")


def verify(data: bytes, gas: int = BIG_GAS) -> bytes:
    computation = run(p256verify, data, gas)
    assert computation.gas_used == 6900
    return computation.output


def test_p256verify_valid_signature(signed: bytes) -> None:
    assert verify(signed) == VALID


def test_p256verify_exact_gas_is_enough_and_one_less_is_out_of_gas(signed: bytes) -> None:
    assert verify(signed, gas=6900) == VALID
    with pytest.raises(OutOfGas):
        run(p256verify, signed, 6899)
    with pytest.raises(OutOfGas):
        run(p256verify, signed[:159], 6899)


def test_p256verify_known_vector_from_fixed_key() -> None:
    # d = 1: Q = G.  Signature made with RFC 6979 by pycryptodome, checked against G's coordinates.
    key = ECC.construct(curve="P-256", d=1)
    data = sign(key, b"abc", mode="deterministic-rfc6979")
    assert fields(data)[3:] == [GX, GY]
    assert data[:32] == hashlib.sha256(b"abc").digest()
    assert verify(data) == VALID


# The CallP256Verify vector from go-ethereum's core/vm/testdata/precompiles/p256Verify.json (RIP-7212).
KNOWN_VALID = bytes.fromhex(
    "4cee90eb86eaa050036147a12d49004b6b9c72bd725d39d4785011fe190f0b4d"
    "a73bd4903f0ce3b639bbbf6e8e80d16931ff4bcf5993d58468e8fb19086e8cac"
    "36dbcd03009df8c59286b162af3bd7fcc0450c9aa81be5d10d312af6c66b1d60"
    "4aebd3099c618202fcfe16ae7770b0c49ab5eadf74b754204a3bb6060e44eff3"
    "7618b065f9832de4ca6ca971a7a1adc826d0f7c00181a5fb2ddf79ae00b4e10e"
)


def test_p256verify_known_answer_vector() -> None:
    assert verify(KNOWN_VALID) == VALID
    assert verify(KNOWN_VALID[:-1] + b"\x0f") == b""


@pytest.mark.parametrize("index", range(5))
def test_p256verify_each_field_plus_one_is_invalid(signed: bytes, index: int) -> None:
    values = fields(signed)
    values[index] = (values[index] + 1) % 2**256
    assert verify(pack(*values)) == b""


def test_p256verify_wrong_message_and_wrong_key(key: ECC.EccKey, signed: bytes) -> None:
    other = sign(key, b"another message")
    assert verify(other) == VALID
    assert verify(other[:32] + signed[32:]) == b""  # signature of a different hash
    assert verify(signed[:32] + other[32:]) == b""
    stranger = ECC.generate(curve="P-256").pointQ
    assert verify(signed[:96] + word(int(stranger.x)) + word(int(stranger.y))) == b""


def test_p256verify_swapped_r_and_s(signed: bytes) -> None:
    h, r, s, qx, qy = fields(signed)
    assert verify(pack(h, s, r, qx, qy)) == b""


@pytest.mark.parametrize("bad", [0, N, N + 1, 2**256 - 1])
def test_p256verify_r_or_s_out_of_range(signed: bytes, bad: int) -> None:
    h, r, s, qx, qy = fields(signed)
    assert verify(pack(h, bad, s, qx, qy)) == b""
    assert verify(pack(h, r, bad, qx, qy)) == b""


def test_p256verify_r_and_s_at_n_minus_one_do_not_crash(signed: bytes) -> None:
    h, r, s, qx, qy = fields(signed)
    assert verify(pack(h, N - 1, N - 1, qx, qy)) == b""


def test_p256verify_high_s_is_accepted(signed: bytes) -> None:
    # ECDSA is malleable and EIP-7951 does not require low s: (r, n - s) is valid too.
    h, r, s, qx, qy = fields(signed)
    assert verify(pack(h, r, N - s, qx, qy)) == VALID


def test_p256verify_coordinates_at_or_above_p(signed: bytes) -> None:
    h, r, s, qx, qy = fields(signed)
    for bad in (P, P + 1, 2**256 - 1):
        assert verify(pack(h, r, s, bad, qy)) == b""
        assert verify(pack(h, r, s, qx, bad)) == b""


def small_x_point() -> tuple[int, int]:
    """A curve point whose x is small enough that x + p still fits in 32 bytes."""
    x = 1
    while True:
        rhs = (x**3 - 3 * x + B) % P
        y = pow(rhs, (P + 1) // 4, P)  # p = 3 (mod 4)
        if y * y % P == rhs:
            return x, y
        x += 1


def test_p256verify_unreduced_x_coordinate_is_rejected() -> None:
    # A valid signature for a key-only point (made by the r = (u1 G + u2 Q).x forgery, using
    # pycryptodome's point arithmetic), then the same x written as x + p: congruent, but >= p.
    qx, qy = small_x_point()
    q = ECC.EccPoint(qx, qy, curve="P-256")
    g = ECC.EccPoint(GX, GY, curve="P-256")
    u1, u2 = 0x1234567, 0x89ABCDEF
    point = g * u1 + q * u2
    r = int(point.x) % N
    s = r * pow(u2, -1, N) % N
    h = u1 * s % N
    assert verify(pack(h, r, s, qx, qy)) == VALID
    assert qx + P < 2**256
    assert verify(pack(h, r, s, qx + P, qy)) == b""


def test_p256verify_hash_is_not_range_checked() -> None:
    d, k, h = 0xC0FFEE, 0xBEEF1234, 42
    data = sign_raw_hash(d, h, k)
    assert verify(data) == VALID
    _, r, s, qx, qy = fields(data)
    assert verify(pack(h + N, r, s, qx, qy)) == VALID  # h is used mod n, never rejected
    assert verify(pack(h + 1, r, s, qx, qy)) == b""


def test_p256verify_zero_hash() -> None:
    data = sign_raw_hash(0xABCDEF, 0, 0x31337)
    assert verify(data) == VALID


def test_p256verify_point_at_infinity_and_off_curve(signed: bytes) -> None:
    h, r, s, qx, qy = fields(signed)
    assert verify(pack(h, r, s, 0, 0)) == b""
    assert verify(pack(h, r, s, qx, (qy + 1) % P)) == b""
    assert verify(pack(h, r, s, qx, 0)) == b""
    assert verify(pack(h, r, s, 0, qy)) == b""
    # (x, -y) is on the curve but a different key
    assert verify(pack(h, r, s, qx, P - qy)) == b""


def r_equals_q(qx: int, qy: int) -> bytes:
    """h = 0 and s = r = qx mod n make u1 = 0 and u2 = 1, so R = Q and the check is R.x mod n == r."""
    r = qx % N
    return pack(0, r, r, qx, qy)


def test_p256verify_r_equals_q_construction_on_the_generator() -> None:
    assert verify(r_equals_q(GX, GY)) == VALID
    assert verify(r_equals_q(GX, P - GY)) == VALID  # -G has the same x


def test_p256verify_off_curve_point_is_rejected_even_if_the_equation_holds() -> None:
    # (Gx, Gy + 1) is off the curve; an implementation that skips the curve check would accept.
    with pytest.raises(ValueError):
        ECC.EccPoint(GX, GY + 1, curve="P-256")
    assert verify(r_equals_q(GX, GY + 1)) == b""
    assert verify(r_equals_q(5, 0)) == b""


def test_p256verify_compares_x_modulo_n() -> None:
    # A curve point with n <= x < p (accepted by pycryptodome): R.x >= n, so r = R.x - n.
    x = N
    while True:
        rhs = (x**3 - 3 * x + B) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            break
        x += 1
    assert N <= x < P
    ECC.EccPoint(x, y, curve="P-256")  # raises if not on the curve
    assert verify(r_equals_q(x, y)) == VALID
    h, r, s, qx, qy = fields(r_equals_q(x, y))
    assert r == x - N
    assert verify(pack(h, x, x, qx, qy)) == b""  # unreduced r >= n is out of range


def test_p256verify_r_point_at_infinity_is_invalid() -> None:
    # With Q = dG and h = -r d (mod n), u1 G + u2 Q = (h + r d) / s * G = infinity.
    d = 0x5EED
    q = ECC.construct(curve="P-256", d=d).pointQ
    for r, s in ((1, 1), (12345, 678910), (N - 1, 2)):
        h = -r * d % N
        assert verify(pack(h, r, s, int(q.x), int(q.y))) == b""


@pytest.mark.parametrize("length", [0, 1, 128, 159, 161, 192])
def test_p256verify_wrong_length_is_empty_but_charged(signed: bytes, length: int) -> None:
    data = (signed + b"\x00" * 64)[:length]
    assert verify(data) == b""


def test_p256verify_trailing_byte_on_valid_signature(signed: bytes) -> None:
    assert verify(signed + b"\x00") == b""
    assert verify(signed[:159]) == b""


@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(min_value=1, max_value=N - 1),
    message=st.binary(max_size=64),
    bit=st.integers(min_value=0, max_value=255),
)
def test_p256verify_property_valid_and_corrupted_hash(d: int, message: bytes, bit: int) -> None:
    key = ECC.construct(curve="P-256", d=d)
    data = sign(key, message, mode="deterministic-rfc6979")
    assert verify(data) == VALID
    h = int.from_bytes(data[:32], "big") ^ (1 << bit)
    assert verify(word(h) + data[32:]) == b""
