"""``balrex jwt``: a bearer token for the node's secret, for curl and other hand-made calls."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from engine_harness import BALREX
from typer.testing import CliRunner

from client.cli import app
from engine_api.auth import Unauthorized, check_authorization, load_or_create_secret

runner = CliRunner()


def test_token_is_hs256_with_iat_now_for_the_datadir_secret(tmp_path: Path) -> None:
    secret, _ = load_or_create_secret(tmp_path / "jwt.hex")
    before = int(time.time())
    result = runner.invoke(app, ["jwt", "--datadir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert pyjwt.get_unverified_header(token)["alg"] == "HS256"
    claims = pyjwt.decode(token, secret, algorithms=["HS256"])
    assert before <= claims["iat"] <= int(time.time())
    check_authorization(b"Bearer " + token.encode(), secret)  # what the node checks
    other, _ = load_or_create_secret(tmp_path / "other.hex")
    with pytest.raises(Unauthorized):
        check_authorization(b"Bearer " + token.encode(), other)


def test_secret_file_given_like_the_node(tmp_path: Path) -> None:
    secret, _ = load_or_create_secret(tmp_path / "elsewhere" / "secret.hex")
    result = runner.invoke(
        app,
        [
            "jwt",
            "--datadir",
            str(tmp_path / "none"),
            "--authrpc.jwtsecret",
            str(tmp_path / "elsewhere" / "secret.hex"),
        ],
    )
    assert result.exit_code == 0, result.output
    pyjwt.decode(result.output.strip(), secret, algorithms=["HS256"])


def test_missing_secret_says_how_to_get_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["jwt", "--datadir", str(tmp_path)])
    assert result.exit_code == 1
    assert "start the node once" in result.output


def test_the_token_authenticates_a_call_to_a_running_node(start_node: Any) -> None:
    node = start_node()
    token = subprocess.run(
        [str(BALREX), "jwt", "--datadir", str(node.datadir)], check=True, capture_output=True, text=True
    ).stdout.strip()
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    answer = node.post(body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["result"] == "0x0", answer.text
    assert node.post(body, headers={}).status_code == 401
