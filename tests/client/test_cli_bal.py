"""The `balrex bal` commands, through the installed console script and typer's runner."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bal import BlockAccessList, decode_bal
from bal.json_codec import bal_to_json
from bal.types import AccountChanges, BalanceChange
from client.cli import app

runner = CliRunner()
BAL = BlockAccessList(
    (AccountChanges(address=b"\x01" * 20, storage_reads=(1,), balance_changes=(BalanceChange(1, 5),)),)
)


def test_encode_then_decode_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "bal.json"
    source.write_text(json.dumps(bal_to_json(BAL)))
    encoded = runner.invoke(app, ["bal", "encode", str(source)])
    assert encoded.exit_code == 0, encoded.output
    rlp_hex = json.loads(encoded.output)["rlp"]
    assert decode_bal(bytes.fromhex(rlp_hex[2:])) == BAL
    decoded = runner.invoke(app, ["bal", "decode", rlp_hex])
    assert decoded.exit_code == 0, decoded.output
    assert json.loads(decoded.output)["blockAccessList"] == bal_to_json(BAL)
    assert json.loads(decoded.output)["hash"] == json.loads(encoded.output)["hash"]


def test_bad_input_exits_1_and_names_the_rule() -> None:
    truncated = runner.invoke(app, ["bal", "decode", "0xdfde94"])
    assert truncated.exit_code == 1
    assert "malformed-rlp" in truncated.output
    encoded = json.loads(runner.invoke(app, ["bal", "encode", json.dumps(bal_to_json(BAL))]).output)["rlp"]
    out_of_range = runner.invoke(app, ["bal", "decode", encoded, "--tx-count", "0"])
    assert out_of_range.exit_code == 0
    # index 1 is allowed for 0 transactions (post-execution), but the item limit is not met:
    too_many = runner.invoke(app, ["bal", "decode", encoded, "--gas-limit", "2000"])
    assert too_many.exit_code == 1 and "bal-gas-limit-exceeded" in too_many.output
    not_json = runner.invoke(app, ["bal", "encode", "[oops"])
    assert not_json.exit_code == 1 and "not JSON" in not_json.output


@pytest.mark.integration  # runs the installed console script in a subprocess
def test_installed_console_script_runs() -> None:
    script = shutil.which("balrex", path=str(Path(sys.executable).parent))
    assert script, "the balrex console script is not installed next to this interpreter"
    done = subprocess.run([script, "version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("balrex ")
