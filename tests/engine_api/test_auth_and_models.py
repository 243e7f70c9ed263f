"""In-process checks of the pieces the server tests go through: JWT rules, hex models, requests hash."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from engine_api.auth import (
    JwtSecretError,
    Unauthorized,
    check_authorization,
    load_or_create_secret,
    make_token,
    read_secret,
)
from engine_api.models import WIRE, ExecutionPayloadV3, PayloadStatusV1, WithdrawalV1
from engine_api.payload import requests_hash

SECRET = bytes(range(32))


def bearer(token: str) -> bytes:
    return f"Bearer {token}".encode()


def test_token_within_60s_passes_and_outside_fails() -> None:
    now = 1_700_000_000
    for offset in (-60, 0, 60):
        check_authorization(bearer(make_token(SECRET, now + offset)), SECRET, now=now)
    for offset in (-61, 61):
        with pytest.raises(Unauthorized, match="stale"):
            check_authorization(bearer(make_token(SECRET, now + offset)), SECRET, now=now)


@pytest.mark.parametrize(
    "header",
    [
        None,
        b"",
        b"Bearer ",
        b"Token abc",
        bearer("not.a.jwt"),
        bearer(jwt.encode({"iat": int(time.time())}, b"\x01" * 32, algorithm="HS256")),  # other secret
        bearer(jwt.encode({"iat": int(time.time())}, SECRET * 2, algorithm="HS512")),  # other algorithm, key
        bearer(jwt.encode({"sub": "x"}, SECRET, algorithm="HS256")),  # no iat
        bearer(jwt.encode({"iat": int(time.time())}, None, algorithm="none")),  # unsigned
    ],
    # Fixed ids: the tokens hold the time, and pytest-xdist's workers must collect equal ids.
    ids=[
        "none",
        "empty",
        "bearer-only",
        "other-scheme",
        "not-a-jwt",
        "other-secret",
        "other-algorithm",
        "no-iat",
        "unsigned",
    ],
)
def test_bad_authorization_is_refused(header: bytes | None) -> None:
    with pytest.raises(Unauthorized):
        check_authorization(header, SECRET)


def test_bad_authorization_is_refused_hs512_with_the_secret() -> None:
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        token = jwt.encode({"iat": int(time.time())}, SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        check_authorization(bearer(token), SECRET)


def test_secret_file_created_0600_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "jwt.hex"
    secret, created = load_or_create_secret(path)
    assert created and len(secret) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_secret(path) == (secret, False)
    assert read_secret(path) == secret


@pytest.mark.parametrize("text", ["0x1234", "zz" * 32, "", "0x" + "00" * 33])
def test_bad_secret_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "jwt.hex"
    path.write_text(text)
    with pytest.raises(JwtSecretError):
        read_secret(path)


def test_secret_without_0x_and_with_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "jwt.hex"
    path.write_text("ab" * 32 + "\n")
    assert read_secret(path) == b"\xab" * 32


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0x0", True),
        ("0x1f", True),
        ("0xABC", True),
        ("0x", False),
        ("0x00", False),
        ("0x01", False),
        ("1", False),
        (1, False),
        ("0xg", False),
        (None, False),
        ("0x" + "f" * 65, False),
    ],
)
def test_quantity_rules_on_the_wire(value: object, ok: bool) -> None:
    data = {"index": value, "validatorIndex": "0x0", "address": "0x" + "11" * 20, "amount": "0x0"}
    if ok:
        assert WithdrawalV1.model_validate(data, context=WIRE).index == int(str(value), 16)
    else:
        with pytest.raises(ValidationError):
            WithdrawalV1.model_validate(data, context=WIRE)


@pytest.mark.parametrize(
    "address", ["0x" + "11" * 19, "0x" + "11" * 21, "0x" + "1" * 39, "11" * 20, b"\x11" * 20]
)
def test_fixed_size_data_rules_on_the_wire(address: object) -> None:
    data = {"index": "0x0", "validatorIndex": "0x0", "address": address, "amount": "0x0"}
    with pytest.raises(ValidationError):
        WithdrawalV1.model_validate(data, context=WIRE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x", b""),
        ("0x00ff", b"\x00\xff"),
        ("0xAbCd", b"\xab\xcd"),
        ("0x123", None),  # odd
        ("0x12 34", None),  # bytes.fromhex would skip the space
        ("0x 1234", None),
        ("0x1234\n", None),
        ("0X1234", None),
        ("1234", None),
        ("0xzz", None),
        ("0x\uff11\uff12", None),  # fullwidth digits
        (b"\x12\x34", None),  # the wire has strings only
        (None, None),
    ],
)
def test_data_rules_on_the_wire(value: object, expected: bytes | None) -> None:
    data = {"index": "0x0", "validatorIndex": "0x0", "address": "0x" + "11" * 20, "amount": "0x0"}
    payload_fields = {
        "parentHash": "0x" + "00" * 32,
        "feeRecipient": "0x" + "00" * 20,
        "stateRoot": "0x" + "00" * 32,
        "receiptsRoot": "0x" + "00" * 32,
        "logsBloom": "0x" + "00" * 256,
        "prevRandao": "0x" + "00" * 32,
        "blockNumber": "0x1",
        "gasLimit": "0x1",
        "gasUsed": "0x0",
        "timestamp": "0x1",
        "extraData": value,
        "baseFeePerGas": "0x7",
        "blockHash": "0x" + "00" * 32,
        "transactions": [],
        "withdrawals": [data],
        "blobGasUsed": "0x0",
        "excessBlobGas": "0x0",
    }
    if expected is None:
        with pytest.raises(ValidationError):
            ExecutionPayloadV3.model_validate(payload_fields, context=WIRE)
    else:
        assert ExecutionPayloadV3.model_validate(payload_fields, context=WIRE).extra_data == expected


def test_payload_model_is_camel_case_and_strict() -> None:
    fields = set(ExecutionPayloadV3.model_json_schema(by_alias=True)["properties"])
    assert {"parentHash", "feeRecipient", "logsBloom", "prevRandao", "blobGasUsed", "excessBlobGas"} <= fields
    assert PayloadStatusV1(status="SYNCING").to_json() == {
        "status": "SYNCING",
        "latestValidHash": None,
        "validationError": None,
    }


def test_requests_hash_skips_empty_requests() -> None:
    empty = hashlib.sha256(b"").digest()
    assert requests_hash([]) == empty
    assert requests_hash([b"\x00", b"\x01"]) == empty
    one = b"\x01" + b"\xaa" * 76
    assert requests_hash([b"\x00", one]) == hashlib.sha256(hashlib.sha256(one).digest()).digest()
