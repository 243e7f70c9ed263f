"""The verdicts: every rule the BAL library names is a Rule and a BAL rule; rejections cross a pipe intact."""

from __future__ import annotations

import pickle

import pytest

import bal.errors
import bal.mismatch
from bal import BalError
from pipeline.processes import Failure, _crossable
from pipeline.verdicts import BAL_RULES, BlockRejected, Rule


def _bal_error_classes() -> list[type[BalError]]:
    found: list[type[BalError]] = []
    pending: list[type[BalError]] = [BalError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_the_bal_modules_are_loaded() -> None:
    # The walk below sees only loaded subclasses: both modules that define them are imported here.
    assert bal.errors.BalError is BalError and bal.mismatch.BalMismatch.__mro__[1] is BalError


@pytest.mark.parametrize("cls", _bal_error_classes(), ids=lambda cls: cls.__name__)
def test_every_bal_error_rule_is_a_bal_rule(cls: type[BalError]) -> None:
    rule = Rule(cls.rule)
    assert rule in BAL_RULES


def test_rules_outside_the_bal_library_are_not_bal_rules() -> None:
    assert Rule.STATE_ROOT_MISMATCH not in BAL_RULES
    assert Rule.INVALID_TRANSACTION not in BAL_RULES
    assert Rule.BLOCK_ACCESS_LIST_MISMATCH in BAL_RULES  # the executed BAL's hash differs from the header's


def test_a_rejection_reads_rule_then_message_and_says_a_bal_rule_once() -> None:
    rejected = BlockRejected(Rule.GAS_USED_MISMATCH, "execution used 1, header says 2")
    assert str(rejected) == "gas-used-mismatch: execution used 1, header says 2"
    from_bal = BlockRejected.from_bal_error(bal.errors.DuplicateAccount("0xaa twice", where="accounts[1]"))
    assert from_bal.rule is Rule.BAL_DUPLICATE_ACCOUNT
    assert str(from_bal) == "duplicate-account: 0xaa twice (at accounts[1])"


def test_a_rejection_crosses_a_pipe_with_its_type_and_rule() -> None:
    rejected = BlockRejected(Rule.DEPOSIT_LAYOUT, "field at 32 is not 48 bytes")
    copy = pickle.loads(pickle.dumps(Failure(_crossable(rejected)))).error
    assert isinstance(copy, BlockRejected)
    assert copy.rule is Rule.DEPOSIT_LAYOUT and str(copy) == str(rejected)


def test_an_exception_that_cannot_cross_becomes_a_worker_failure_naming_it() -> None:
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    crossed = _crossable(Local("boom"))
    assert type(crossed).__name__ == "WorkerFailed"
    assert "Local: boom" in str(crossed)
