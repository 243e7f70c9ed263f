"""client/transaction_rules.py: py-evm's and the forks' refusal texts name their rule.

The texts are the ones the EF fixtures produce (``ef-tests/rejections.py``
lists them with an example each); the EF runner checks the whole chain from
fixture to rule, these cases pin the classifier on its own.
"""

from __future__ import annotations

import pytest
from eth.exceptions import OutOfGas, VMError
from eth_utils import ValidationError

from client.transaction_rules import _rule_for_validation_error
from pipeline.verdicts import Rule

CASES = [
    ("Invalid transaction nonce: Expected 5, but got 6", Rule.TX_NONCE_MISMATCH),
    ("Nonce must be less than 2^64-1, got 18446744073709551615", Rule.TX_NONCE_MAX),
    ("Insufficient gas", Rule.TX_INTRINSIC_GAS_TOO_LOW),
    ("gas limit 21009 is below the intrinsic gas 21010", Rule.TX_INTRINSIC_GAS_TOO_LOW),
    ("gas limit 21009 is below the floor 21010 (EIP-7976)", Rule.TX_INTRINSIC_GAS_TOO_LOW),
    ("gas limit 16777217 exceeds the cap 16777216", Rule.TX_GAS_LIMIT_ABOVE_CAP),
    ("intrinsic regular gas 16777217 exceeds 16777216", Rule.TX_GAS_LIMIT_ABOVE_CAP),
    (
        "Transaction exceeds gas limit: using 21001, bringing total to 21001, but limit is 21000",
        Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT,
    ),
    ("transaction gas 21064 exceeds the block's regular gas left 21063", Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT),
    ("transaction gas 21064 exceeds the block's state gas left 21063", Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT),
    ("Sender b'\\xa2' cannot afford txn gas 210000 with account balance 209999", Rule.TX_INSUFFICIENT_FUNDS),
    ("sender balance 1 is below the transaction's max cost 2", Rule.TX_INSUFFICIENT_FUNDS),
    ("Sender has insufficient funds for blob fee.", Rule.TX_INSUFFICIENT_FUNDS),
    (
        "Sender does not have enough balance to cover transaction value and gas  (has 0, needs 1)",
        Rule.TX_INSUFFICIENT_FUNDS,
    ),
    (
        "Sender's max fee per gas (6) is lower than block's base fee per gas (7)",
        Rule.TX_MAX_FEE_BELOW_BASE_FEE,
    ),
    ("max priority fee per gas exceeds max fee per gas", Rule.TX_PRIORITY_FEE_ABOVE_MAX_FEE),
    ("sender is not an EOA: it has code (EIP-3607)", Rule.TX_SENDER_NOT_EOA),
    ("initcode of 65537 bytes exceeds 65536", Rule.TX_INITCODE_TOO_LARGE),
    ("a blob transaction cannot create a contract", Rule.TX_CONTRACT_CREATION_NOT_ALLOWED),
    ("Transaction.to b'' is not a valid canonical address", Rule.TX_CONTRACT_CREATION_NOT_ALLOWED),
    ("Transaction.authorization_list cannot empty", Rule.TX_EMPTY_AUTHORIZATION_LIST),
    ("Blob transaction must contain at least one blob.", Rule.TX_NO_BLOBS),
    ("7 blobs exceed 6 per transaction", Rule.TX_TOO_MANY_BLOBS),
    (
        "Blob versioned hash does not start with expected KZG version: b'\\x01'",
        Rule.TX_INVALID_BLOB_VERSIONED_HASH,
    ),
    (
        "Blob transaction must pay at least the current blob base fee.",
        Rule.TX_MAX_BLOB_FEE_BELOW_BLOB_BASE_FEE,
    ),
    ("Block exceeded maximum blob gas limit.", Rule.BLOB_GAS_ABOVE_LIMIT),
    ("blob gas 1310720 exceeds the block's maximum", Rule.BLOB_GAS_ABOVE_LIMIT),
    ("Block excess blob gas was not updated correctly.", Rule.EXCESS_BLOB_GAS_MISMATCH),
    ("excess blob gas is 1572864, parent gives 1441792", Rule.EXCESS_BLOB_GAS_MISMATCH),
    ("Block blob gas used (131072) does not match total blob gas used (0).", Rule.BLOB_GAS_USED_MISMATCH),
    ("header blob gas used 131072, transactions use 0", Rule.BLOB_GAS_USED_MISMATCH),
    ("block gas 30000001 exceeds the gas limit 30000000", Rule.GAS_USED_ABOVE_LIMIT),
]


@pytest.mark.parametrize(("message", "rule"), CASES)
def test_a_known_text_names_its_rule(message: str, rule: Rule) -> None:
    assert _rule_for_validation_error(ValidationError(message)) == rule


def test_an_unknown_text_gets_the_catch_all() -> None:
    rule = _rule_for_validation_error(ValidationError("Invalid Signature"))
    assert rule == Rule.INVALID_TRANSACTION_OR_BLOCK


def test_the_initcode_limit_raised_as_out_of_gas_is_named() -> None:
    exc = OutOfGas("Contract code size exceeds EIP-3860 limit of 49152. Got code of size: 49153")
    assert _rule_for_validation_error(exc) == Rule.TX_INITCODE_TOO_LARGE


def test_another_vm_error_stays_an_invalid_transaction() -> None:
    assert _rule_for_validation_error(VMError("Insufficient funds: 0 < 1")) == Rule.INVALID_TRANSACTION
