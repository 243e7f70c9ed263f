"""The merkle pass rejects what it must: tampered fixtures fail, lying BALs are rejected."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fixture_files import unpack_archive
from merkle_pass import run_merkle_pass
from outcomes import Outcomes

CASE = "amsterdam/eip7928_block_level_access_lists/block_access_lists/bal_balance_changes.json"


@pytest.fixture(scope="module")
def fixture_test(amsterdam_archive: Path) -> dict[str, Any]:
    root = unpack_archive(amsterdam_archive) / "blockchain_tests" / "for_amsterdam"
    tests = json.loads((root / CASE).read_text())
    return next(iter(tests.values()))


def test_untouched_fixture_passes(fixture_test: dict[str, Any]) -> None:
    outcomes = Outcomes()
    run_merkle_pass(copy.deepcopy(fixture_test), outcomes)
    assert outcomes.valid_blocks == len(fixture_test["blocks"])


def _first_balance_change(block: dict[str, Any]) -> dict[str, str]:
    for account in block["blockAccessList"]:
        if account["balanceChanges"]:
            return account["balanceChanges"][-1]
    raise AssertionError("fixture has no balance change")


def test_a_changed_post_value_fails_the_valid_block(fixture_test: dict[str, Any]) -> None:
    test = copy.deepcopy(fixture_test)
    change = _first_balance_change(test["blocks"][0])
    change["postBalance"] = hex(int(change["postBalance"], 16) + 1)
    with pytest.raises(AssertionError, match="hash-mismatch"):
        run_merkle_pass(test, Outcomes())


def test_a_wrong_post_state_fails(fixture_test: dict[str, Any]) -> None:
    test = copy.deepcopy(fixture_test)
    account = next(iter(test["postState"].values()))
    account["nonce"] = hex(int(account["nonce"], 16) + 1)
    with pytest.raises(AssertionError, match="nonce"):
        run_merkle_pass(test, Outcomes())


def test_a_wrong_last_block_hash_fails(fixture_test: dict[str, Any]) -> None:
    test = copy.deepcopy(fixture_test)
    test["lastblockhash"] = "0x" + "00" * 32
    with pytest.raises(AssertionError, match="lastblockhash"):
        run_merkle_pass(test, Outcomes())


def test_a_lying_bal_on_an_invalid_block_is_rejected_and_never_a_parent(
    fixture_test: dict[str, Any],
) -> None:
    """Turn the valid block into an expected-invalid one whose BAL claims a wrong balance."""
    test = copy.deepcopy(fixture_test)
    block = test["blocks"][0]
    lying = copy.deepcopy(block)
    _first_balance_change(lying)["postBalance"] = "0x01"
    test["blocks"] = [
        {
            "expectException": "BlockException.INVALID_BLOCK_ACCESS_LIST",
            "rlp": block["rlp"],
            "rlp_decoded": lying,
        },
    ]
    test["lastblockhash"] = test["genesisBlockHeader"]["hash"]
    test["postState"] = test["pre"]
    outcomes = Outcomes()
    run_merkle_pass(test, outcomes)
    expected = "hash-mismatch (fixture expects BlockException.INVALID_BLOCK_ACCESS_LIST)"
    assert outcomes.rejected == {expected: 1}
    assert outcomes.valid_blocks == 0
