"""ef-tests/exception_map.py: a block expected invalid passes only if the right rule rejects it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from exception_map import (
    EARLIER_RULES,
    EXPECTED_RULES,
    UnknownException,
    WrongRejection,
    check_rejection,
    rules_for,
)
from execution_passes import run_streaming_pass
from fixture_files import RELEASE_DIR, release_archive, unpack_archive
from outcomes import Outcomes
from rejections import exception_names

from pipeline.verdicts import Rule

NONCE_CASE = "for_amsterdam/frontier/validation/transaction/tx_nonce.json"


def test_every_exception_the_release_expects_is_in_the_table() -> None:
    archives = sorted(RELEASE_DIR.glob("for_*.tar.gz"))
    assert archives, f"no archives in {RELEASE_DIR}"
    names = set().union(*(exception_names(unpack_archive(archive)) for archive in archives))
    assert names, "no expectException found: the search is broken"
    assert names <= set(EXPECTED_RULES), f"missing from the table: {sorted(names - set(EXPECTED_RULES))}"


def test_every_earlier_rule_is_a_named_exception_an_extra_rule_and_says_why() -> None:
    for name, reasons in EARLIER_RULES.items():
        assert name in EXPECTED_RULES
        for rule, reason in reasons.items():
            assert rule not in EXPECTED_RULES[name], f"{name}: {rule} is already a direct answer"
            assert len(reason) > 20, f"{name}: {rule} needs its reason"


def test_alternatives_accept_the_rules_of_either_name() -> None:
    either = "TransactionException.INSUFFICIENT_ACCOUNT_FUNDS|TransactionException.INTRINSIC_GAS_TOO_LOW"
    assert rules_for(either) == {Rule.TX_INSUFFICIENT_FUNDS, Rule.TX_INTRINSIC_GAS_TOO_LOW}
    check_rejection(Rule.TX_INTRINSIC_GAS_TOO_LOW, either, "")
    with pytest.raises(WrongRejection):
        check_rejection(Rule.TX_NONCE_MISMATCH, either, "")


def test_an_earlier_rule_is_accepted_only_for_its_exception() -> None:
    check_rejection(Rule.BAL_GAS_LIMIT_EXCEEDED, "BlockException.INVALID_GASLIMIT", "")
    with pytest.raises(WrongRejection):
        check_rejection(Rule.BAL_GAS_LIMIT_EXCEEDED, "BlockException.INVALID_BASEFEE_PER_GAS", "")


def test_the_catch_alls_answer_no_exception() -> None:
    """An unclassified py-evm refusal must fail its fixture, so new texts get a precise rule."""
    for rules in EXPECTED_RULES.values():
        assert Rule.INVALID_TRANSACTION_OR_BLOCK not in rules
        assert Rule.INVALID_TRANSACTION not in rules


def test_an_unknown_exception_name_fails() -> None:
    with pytest.raises(UnknownException, match="TransactionException.NOT_A_NAME"):
        rules_for("TransactionException.NONCE_IS_MAX|TransactionException.NOT_A_NAME")


@pytest.fixture(scope="module")
def nonce_too_high() -> dict[str, Any]:
    """The tx_nonce test whose one block carries a transaction with a nonce one too high."""
    root = unpack_archive(release_archive("for_amsterdam.tar.gz")) / "blockchain_tests"
    tests = json.loads((root / NONCE_CASE).read_text())
    suffix = "expected_exception_TransactionException.NONCE_MISMATCH_TOO_HIGH]"
    return next(test for name, test in tests.items() if name.endswith(suffix))


def test_a_block_rejected_for_the_expected_reason_passes(nonce_too_high: dict[str, Any]) -> None:
    outcomes = Outcomes()
    run_streaming_pass(copy.deepcopy(nonce_too_high), outcomes)
    expected = "nonce-mismatch (fixture expects TransactionException.NONCE_MISMATCH_TOO_HIGH)"
    assert outcomes.rejected == {expected: 1}


def test_a_block_rejected_for_another_reason_fails(nonce_too_high: dict[str, Any]) -> None:
    test = copy.deepcopy(nonce_too_high)
    test["blocks"][-1]["expectException"] = "TransactionException.INTRINSIC_GAS_TOO_LOW"
    with pytest.raises(WrongRejection, match="rejected by nonce-mismatch"):
        run_streaming_pass(test, Outcomes())


def test_a_block_expecting_an_unknown_exception_fails(nonce_too_high: dict[str, Any]) -> None:
    test = copy.deepcopy(nonce_too_high)
    test["blocks"][-1]["expectException"] = "TransactionException.SOMETHING_NEW"
    with pytest.raises(UnknownException):
        run_streaming_pass(test, Outcomes())
