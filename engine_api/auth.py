"""JWT authentication of the Engine API (execution-apis ``src/engine/authentication.md``).

The secret is 32 bytes, stored hex-encoded (``0x`` optional) in a file. Every
request carries ``Authorization: Bearer <JWT>``: HS256, signed with the
secret, with an ``iat`` claim within ±60 s of this node's clock, inclusive, in
whole seconds (a NumericDate's fraction and the clock's are dropped, so a
token made exactly 60 s ago is accepted whatever the sub-second timing).
Anything else is refused with HTTP 401 before the body is read.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from pathlib import Path

import jwt

IAT_WINDOW_S = 60


class JwtSecretError(ValueError):
    """The secret file is missing or does not hold 32 hex-encoded bytes."""


class Unauthorized(Exception):
    """The request's token is missing, malformed, wrongly signed or stale."""


def read_secret(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise JwtSecretError(f"cannot read JWT secret {path}: {exc}") from None
    text = text.removeprefix("0x")
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise JwtSecretError(f"JWT secret {path} is not hex") from None
    if len(secret) != 32:
        raise JwtSecretError(f"JWT secret {path} holds {len(secret)} bytes, not 32")
    return secret


def load_or_create_secret(path: Path) -> tuple[bytes, bool]:
    """The secret in ``path``; if the file is absent, a new random one written with mode 0600."""
    if path.exists():
        return read_secret(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("0x" + secret.hex() + "\n")
    return secret, True


def make_token(secret: bytes, iat: float | None = None) -> str:
    """A token as a consensus client makes it (used by the tests and the README example)."""
    return jwt.encode({"iat": int(time.time() if iat is None else iat)}, secret, algorithm="HS256")


def check_authorization(header: bytes | None, secret: bytes, now: float | None = None) -> None:
    """Raise :class:`Unauthorized` unless ``header`` is ``Bearer <valid token>``."""
    if header is None:
        raise Unauthorized("missing token")
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("not a bearer token")
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=["HS256"],
            options={"require": ["iat"], "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    iat = claims["iat"]
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise Unauthorized("iat is not a number")
    # NaN would pass any window comparison, so a non-finite iat is refused by name.
    if isinstance(iat, float) and not math.isfinite(iat):
        raise Unauthorized("iat is not a finite number")
    offset = math.floor(time.time() if now is None else now) - math.floor(iat)
    if abs(offset) > IAT_WINDOW_S:
        raise Unauthorized(f"stale token: iat is {offset} s from now, beyond ±{IAT_WINDOW_S} s")
