"""Osaka precompiles: MODEXP under EIP-7823/EIP-7883 and P256VERIFY (EIP-7951).

Both follow py-evm's precompile shape: ``f(computation) -> computation`` reading
``computation.msg.data_as_bytes``, charging with ``consume_gas`` and setting ``output``.
"""

from __future__ import annotations

from eth.abc import ComputationAPI
from eth.exceptions import VMError

# --- MODEXP (0x05): EIP-7823 input bounds, EIP-7883 pricing -------------------------------

MODEXP_MAX_INPUT_LENGTH = 1024  # EIP-7823, in bytes, for each of base/exponent/modulus
MODEXP_MIN_GAS = 500  # EIP-7883


def _read(data: bytes, offset: int, length: int) -> bytes:
    """``length`` bytes of ``data`` at ``offset``, right-padded with zeros past its end."""
    chunk = data[offset : offset + length]
    return chunk + b"\x00" * (length - len(chunk))


def _read_int(data: bytes, offset: int, length: int) -> int:
    return int.from_bytes(_read(data, offset, length), "big")


def modexp_lengths(data: bytes) -> tuple[int, int, int]:
    """The declared base, exponent and modulus lengths (the first three 32-byte words)."""
    return _read_int(data, 0, 32), _read_int(data, 32, 32), _read_int(data, 64, 32)


def modexp_gas_osaka(data: bytes) -> int:
    """EIP-7883 gas of a MODEXP call whose lengths already passed the EIP-7823 bound."""
    bl, el, ml = modexp_lengths(data)
    head = _read_int(data, 96 + bl, min(32, el))

    mx = max(bl, ml)
    words = (mx + 7) // 8
    complexity = 16 if mx <= 32 else 2 * words**2

    if el <= 32 and head == 0:
        iterations = 0
    elif el <= 32:
        iterations = max(head.bit_length() - 1, 0)
    else:
        iterations = 16 * (el - 32) + max(head.bit_length() - 1, 0)
    iterations = max(iterations, 1)

    return max(MODEXP_MIN_GAS, complexity * iterations)


def modexp_output(data: bytes) -> bytes:
    """The MODEXP result: ``base ** exp % mod`` as ``ml`` big-endian bytes (zeros when mod is 0)."""
    bl, el, ml = modexp_lengths(data)
    if bl == 0 and ml == 0:
        return b""
    base = _read_int(data, 96, bl)
    exp = _read_int(data, 96 + bl, el)
    mod = _read_int(data, 96 + bl + el, ml)
    if mod == 0:
        return b"\x00" * ml
    # Unlike py-evm's _modexp, an empty base is 0 and pow(0, 0, m) == 1 for m > 1.
    return pow(base, exp, mod).to_bytes(ml, "big")


def modexp_osaka(computation: ComputationAPI) -> ComputationAPI:
    data = computation.msg.data_as_bytes
    bl, el, ml = modexp_lengths(data)
    if max(bl, el, ml) > MODEXP_MAX_INPUT_LENGTH:
        # EIP-7823: an exceptional halt, checked before any gas is charged.
        raise VMError(
            f"MODEXP input too long: base {bl}, exponent {el}, modulus {ml} "
            f"(limit {MODEXP_MAX_INPUT_LENGTH} bytes each)"
        )
    computation.consume_gas(modexp_gas_osaka(data), reason="MODEXP Precompile (EIP-7883)")
    computation.output = modexp_output(data)
    return computation


# --- P256VERIFY (0x0100): EIP-7951 ---------------------------------------------------------

P256VERIFY_ADDRESS = (0x100).to_bytes(20, "big")
P256VERIFY_GAS = 6900
P256VERIFY_INPUT_LENGTH = 160
P256VERIFY_SUCCESS = (1).to_bytes(32, "big")

# NIST P-256 / secp256r1 (SEC 2, FIPS 186-4 D.1.2.3).
P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
P256_A = P256_P - 3
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
P256_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5

# Jacobian coordinates (X, Y, Z) stand for the affine point (X/Z^2, Y/Z^3); Z == 0 is infinity.
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


def _jacobian_double(pt: _Jacobian) -> _Jacobian:
    x, y, z = pt
    p = P256_P
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + P256_A * zz * zz) % p
    nx = (m * m - 2 * s) % p
    ny = (m * (s - nx) - 8 * yy * yy) % p
    nz = 2 * y * z % p
    return nx, ny, nz


def _jacobian_add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    p = P256_P
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    if u1 == u2:
        if s1 != s2:
            return _INFINITY
        return _jacobian_double(p1)
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    nx = (r * r - hhh - 2 * v) % p
    ny = (r * (v - nx) - s1 * hhh) % p
    nz = h * z1 * z2 % p
    return nx, ny, nz


def _jacobian_multiply(pt: _Jacobian, k: int) -> _Jacobian:
    result = _INFINITY
    for bit in bin(k)[2:] if k > 0 else "":
        result = _jacobian_double(result)
        if bit == "1":
            result = _jacobian_add(result, pt)
    return result


def p256_on_curve(x: int, y: int) -> bool:
    return (y * y - (x * x * x + P256_A * x + P256_B)) % P256_P == 0


def p256_verify_input(data: bytes) -> bool:
    """EIP-7951: whether ``h|r|s|qx|qy`` is a valid P-256 signature (any malformed input is invalid)."""
    if len(data) != P256VERIFY_INPUT_LENGTH:
        return False
    h, r, s, qx, qy = (int.from_bytes(data[i : i + 32], "big") for i in range(0, 160, 32))
    if not (0 < r < P256_N and 0 < s < P256_N):
        return False
    if not (qx < P256_P and qy < P256_P):
        return False
    if qx == 0 and qy == 0:
        return False
    if not p256_on_curve(qx, qy):
        return False
    w = pow(s, -1, P256_N)
    u1 = h * w % P256_N
    u2 = r * w % P256_N
    rx, _, rz = _jacobian_add(
        _jacobian_multiply((P256_GX, P256_GY, 1), u1),
        _jacobian_multiply((qx, qy, 1), u2),
    )
    if rz == 0:
        return False
    affine_x = rx * pow(rz * rz, -1, P256_P) % P256_P
    return affine_x % P256_N == r


def p256verify(computation: ComputationAPI) -> ComputationAPI:
    computation.consume_gas(P256VERIFY_GAS, reason="P256VERIFY Precompile (EIP-7951)")
    if p256_verify_input(computation.msg.data_as_bytes):
        computation.output = P256VERIFY_SUCCESS
    else:
        computation.output = b""
    return computation
