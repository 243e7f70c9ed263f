"""Which rule a refusal raised during execution breaks, read from its message.

py-evm (and the fork classes that extend its checks, ``client.forks``) refuse
a transaction or a block by raising ``ValidationError`` with a text, and
refuse a transaction whose top-level message cannot start (the EIP-3860
initcode limit) with a ``VMError``; neither says which rule by type. The
chain turns them into :class:`~pipeline.verdicts.BlockRejected` in one place
(``Blockchain.execute``), which asks :func:`_rule_for_validation_error` for the
rule: the EF runner then checks the rule against the exception the fixture
expects, and the Engine API's ``validationError`` starts with it. The message
texts are kept as they are; a text no pattern knows gets the catch-all rule
(``invalid-transaction-or-block``, or ``invalid-transaction`` for a VMError),
which the EF runner's exception table accepts for no exception, so a changed
text shows up as a failing fixture rather than a silently vaguer rule.
"""

from __future__ import annotations

import re

from eth.exceptions import VMError
from eth_utils import ValidationError

from pipeline.verdicts import Rule

# (pattern searched in the message, rule), first match wins. The texts are
# py-evm 0.12.1b1's and those of client/forks/ (store_mixins, osaka, amsterdam).
_VALIDATION_ERROR_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = tuple(
    (re.compile(pattern), rule)
    for pattern, rule in (
        # -- the transaction -------------------------------------------------------
        (r"^Invalid transaction nonce", Rule.TX_NONCE_MISMATCH),
        (r"^Nonce must be less than 2", Rule.TX_NONCE_MAX),
        (r"^Insufficient gas$|is below the intrinsic gas|is below the floor", Rule.TX_INTRINSIC_GAS_TOO_LOW),
        (r"exceeds the cap|^intrinsic regular gas \d+ exceeds", Rule.TX_GAS_LIMIT_ABOVE_CAP),
        (
            r"^Transaction exceeds gas limit|exceeds the block's \w+ gas left",
            Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT,
        ),
        (
            r"cannot afford txn gas|below the transaction's max cost|insufficient funds for blob fee"
            r"|does not have enough balance to cover transaction value and gas",
            Rule.TX_INSUFFICIENT_FUNDS,
        ),
        (r"is lower than block's base fee per gas", Rule.TX_MAX_FEE_BELOW_BASE_FEE),
        (r"^max priority fee per gas exceeds max fee per gas", Rule.TX_PRIORITY_FEE_ABOVE_MAX_FEE),
        (r"^sender is not an EOA", Rule.TX_SENDER_NOT_EOA),
        (r"^initcode of \d+ bytes exceeds", Rule.TX_INITCODE_TOO_LARGE),
        (
            r"cannot create a contract|^Transaction\.to .* is not a valid canonical address",
            Rule.TX_CONTRACT_CREATION_NOT_ALLOWED,
        ),
        (r"authorization_list cannot empty", Rule.TX_EMPTY_AUTHORIZATION_LIST),
        (r"must contain at least one blob", Rule.TX_NO_BLOBS),
        (r"^\d+ blobs exceed \d+ per transaction", Rule.TX_TOO_MANY_BLOBS),
        (r"^Blob versioned hash does not start with", Rule.TX_INVALID_BLOB_VERSIONED_HASH),
        (r"must pay at least the current blob base fee", Rule.TX_MAX_BLOB_FEE_BELOW_BLOB_BASE_FEE),
        # -- the block's blob and gas fields, checked during execution --------------
        (r"^Block exceeded maximum blob gas limit|exceeds the block's maximum", Rule.BLOB_GAS_ABOVE_LIMIT),
        (
            r"^Block excess blob gas was not updated correctly|^excess blob gas is \d+, parent gives",
            Rule.EXCESS_BLOB_GAS_MISMATCH,
        ),
        (
            r"^Block blob gas used \(\d+\) does not match|^header blob gas used \d+, transactions use",
            Rule.BLOB_GAS_USED_MISMATCH,
        ),
        (r"^block gas \d+ exceeds the gas limit", Rule.GAS_USED_ABOVE_LIMIT),
    )
)

# py-evm refuses initcode above the EIP-3860 limit when the transaction's message
# starts, as an out-of-gas VMError that leaves the transaction.
_VM_ERROR_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = (
    (re.compile(r"^Contract code size exceeds EIP-3860 limit"), Rule.TX_INITCODE_TOO_LARGE),
)


def _rule_for_validation_error(exc: ValidationError | VMError) -> Rule:
    """The rule ``exc`` (raised while executing a block) reports; the catch-all if its text is unknown."""
    if isinstance(exc, VMError):
        patterns, fallback = _VM_ERROR_RULES, Rule.INVALID_TRANSACTION
    else:
        patterns, fallback = _VALIDATION_ERROR_RULES, Rule.INVALID_TRANSACTION_OR_BLOCK
    message = str(exc)
    return next((rule for pattern, rule in patterns if pattern.search(message)), fallback)
