"""Which balrex rules answer each exception the EEST fixtures expect.

A block the fixture expects to be invalid passes only when it is rejected for
the right reason: a block rejected by the wrong rule hides a bug just as a
valid block rejected does. :data:`EXPECTED_RULES` maps every exception name
found in the release's fixtures (``ef-tests/rejections.py`` lists them) to the
rules that check it; :data:`EARLIER_RULES` lists, with the reason, the rules
that legitimately reject such a block for another reason it also has: a check
that runs before the named one (the merkle pass runs only the BAL's checks,
before any execution), or the only check a path can make. A fixture may name
alternatives (``A|B``): any of them will do. An exception name missing here
fails the test, so the table stays complete. The ``pyevm`` pass (py-evm alone,
the baseline) is not held to the table: its refusals name exception types,
not rules.
"""

from __future__ import annotations

from pipeline.verdicts import BAL_RULES, Rule

_TX = "TransactionException."
_BLOCK = "BlockException."

EXPECTED_RULES: dict[str, frozenset[Rule]] = {
    name: frozenset(rules)
    for name, rules in {
        # -- transactions -----------------------------------------------------
        # gas * max fee overflowing 256 bits: no balance covers it
        _TX + "GASLIMIT_PRICE_PRODUCT_OVERFLOW": {Rule.TX_INSUFFICIENT_FUNDS},
        _TX + "GAS_ALLOWANCE_EXCEEDED": {Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT},
        _TX + "GAS_LIMIT_EXCEEDS_MAXIMUM": {Rule.TX_GAS_LIMIT_ABOVE_CAP},
        _TX + "INITCODE_SIZE_EXCEEDED": {Rule.TX_INITCODE_TOO_LARGE},
        _TX + "INSUFFICIENT_ACCOUNT_FUNDS": {Rule.TX_INSUFFICIENT_FUNDS},
        _TX + "INSUFFICIENT_MAX_FEE_PER_BLOB_GAS": {Rule.TX_MAX_BLOB_FEE_BELOW_BLOB_BASE_FEE},
        _TX + "INSUFFICIENT_MAX_FEE_PER_GAS": {Rule.TX_MAX_FEE_BELOW_BASE_FEE},
        # the EIP-7623 floor is part of the minimum gas a transaction must carry
        _TX + "INTRINSIC_GAS_BELOW_FLOOR_GAS_COST": {Rule.TX_INTRINSIC_GAS_TOO_LOW},
        _TX + "INTRINSIC_GAS_TOO_LOW": {Rule.TX_INTRINSIC_GAS_TOO_LOW},
        _TX + "NONCE_IS_MAX": {Rule.TX_NONCE_MAX},
        _TX + "NONCE_MISMATCH_TOO_HIGH": {Rule.TX_NONCE_MISMATCH},
        _TX + "NONCE_MISMATCH_TOO_LOW": {Rule.TX_NONCE_MISMATCH},
        _TX + "PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS": {Rule.TX_PRIORITY_FEE_ABOVE_MAX_FEE},
        _TX + "SENDER_NOT_EOA": {Rule.TX_SENDER_NOT_EOA},
        _TX + "TYPE_3_TX_BLOB_COUNT_EXCEEDED": {Rule.TX_TOO_MANY_BLOBS},
        _TX + "TYPE_3_TX_CONTRACT_CREATION": {Rule.TX_CONTRACT_CREATION_NOT_ALLOWED},
        _TX + "TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH": {Rule.TX_INVALID_BLOB_VERSIONED_HASH},
        # one transaction's blobs above the block's maximum (checked per transaction and per block)
        _TX + "TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED": {Rule.BLOB_GAS_ABOVE_LIMIT},
        # blobs in a block's transaction list do not decode: only the network form carries them;
        # a payload's transactions are decoded one by one (engine pass): a malformed transaction
        _TX + "TYPE_3_TX_WITH_FULL_BLOBS": {Rule.MALFORMED_BLOCK, Rule.MALFORMED_TRANSACTION},
        _TX + "TYPE_3_TX_ZERO_BLOBS": {Rule.TX_NO_BLOBS},
        _TX + "TYPE_4_EMPTY_AUTHORIZATION_LIST": {Rule.TX_EMPTY_AUTHORIZATION_LIST},
        _TX + "TYPE_4_TX_CONTRACT_CREATION": {Rule.TX_CONTRACT_CREATION_NOT_ALLOWED},
        # a set-code transaction before Prague: a type the block's fork does not have
        _TX + "TYPE_4_TX_PRE_FORK": {Rule.UNSUPPORTED_TRANSACTION_TYPE},
        # -- blocks -----------------------------------------------------------
        _BLOCK + "BLOB_GAS_USED_ABOVE_LIMIT": {Rule.BLOB_GAS_ABOVE_LIMIT},
        # The commitments execution checks (in no shared archive; engine test files name them).
        _BLOCK + "INVALID_STATE_ROOT": {Rule.STATE_ROOT_MISMATCH},
        _BLOCK + "INVALID_RECEIPTS_ROOT": {Rule.RECEIPTS_ROOT_MISMATCH},
        _BLOCK + "INVALID_LOG_BLOOM": {Rule.LOGS_BLOOM_MISMATCH},
        _BLOCK + "INVALID_GAS_USED": {Rule.GAS_USED_MISMATCH},
        _BLOCK + "INVALID_TRANSACTIONS_ROOT": {Rule.TRANSACTIONS_ROOT_MISMATCH},
        _BLOCK + "BLOCK_ACCESS_LIST_GAS_LIMIT_EXCEEDED": {Rule.BAL_GAS_LIMIT_EXCEEDED},
        # balrex admits a transaction only if its gas fits in what the block has left,
        # so a block whose gas used would overflow its limit fails at that transaction
        _BLOCK + "GAS_USED_OVERFLOW": {Rule.TX_GAS_ABOVE_BLOCK_GAS_LEFT, Rule.GAS_USED_ABOVE_LIMIT},
        _BLOCK + "INCORRECT_BLOB_GAS_USED": {Rule.BLOB_GAS_USED_MISMATCH},
        # a BAL out of order or with an account twice is not a canonical encoding
        _BLOCK + "INCORRECT_BLOCK_FORMAT": {
            Rule.MALFORMED_BLOCK,
            Rule.BAL_ACCOUNTS_NOT_ASCENDING,
            Rule.BAL_DUPLICATE_ACCOUNT,
        },
        _BLOCK + "INCORRECT_EXCESS_BLOB_GAS": {Rule.EXCESS_BLOB_GAS_MISMATCH},
        # without a given BAL (streaming path) the check is the executed BAL's hash against the header's
        _BLOCK + "INVALID_BAL_HASH": {Rule.BAL_HASH_MISMATCH, Rule.BLOCK_ACCESS_LIST_MISMATCH},
        _BLOCK + "INVALID_BASEFEE_PER_GAS": {Rule.INVALID_HEADER},
        _BLOCK + "INVALID_BLOCK_ACCESS_LIST": BAL_RULES,
        _BLOCK + "INVALID_BLOCK_HASH": {Rule.BLOCK_HASH_MISMATCH},
        _BLOCK + "INVALID_DEPOSIT_EVENT_LAYOUT": {Rule.DEPOSIT_LAYOUT},
        _BLOCK + "INVALID_GASLIMIT": {Rule.INVALID_HEADER},
        _BLOCK + "INVALID_REQUESTS": {Rule.REQUESTS_HASH_MISMATCH},
        _BLOCK + "INVALID_WITHDRAWALS_ROOT": {Rule.WITHDRAWALS_ROOT_MISMATCH},
        _BLOCK + "RLP_STRUCTURES_ENCODING": {Rule.MALFORMED_BLOCK},
        _BLOCK + "SYSTEM_CONTRACT_CALL_FAILED": {Rule.SYSTEM_CONTRACT_CALL_FAILED},
        _BLOCK + "SYSTEM_CONTRACT_EMPTY": {Rule.SYSTEM_CONTRACT_CALL_FAILED},
    }.items()
}

# Rules that legitimately reject such a block for another reason the block
# also has (a check balrex runs first, or the only check a pass can make),
# with that reason. The merkle pass checks the BAL alone, before and without
# execution: a BAL whose post-state is not the header's state root, or with
# more items than the header's gas limit allows, makes the block invalid
# whatever its transactions do.
_BAL_ROOT_DIFFERS = (
    "the BAL's post-state root is not the header's state root (merkle pass: the block "
    "carries a BAL that does not describe the state it commits to)"
)
_BAL_TOO_LARGE_FOR_HEADER = (
    "the BAL has more items than the header's gas limit / 2000 allows (EIP-7928; the merkle "
    "pass checks the BAL against the header before any transaction or header rule)"
)
EARLIER_RULES: dict[str, dict[Rule, str]] = {
    _BLOCK + "INCORRECT_BLOCK_FORMAT": {
        Rule.BLOCK_ACCESS_LIST_MISMATCH: "without a given BAL (streaming path) balrex never sees the "
        "malformed list, only the header's hash of it, which the BAL execution records cannot match",
    },
    _BLOCK + "INVALID_BLOCK_ACCESS_LIST": {Rule.STATE_ROOT_MISMATCH: _BAL_ROOT_DIFFERS},
    _BLOCK + "INVALID_DEPOSIT_EVENT_LAYOUT": {Rule.STATE_ROOT_MISMATCH: _BAL_ROOT_DIFFERS},
    _BLOCK + "SYSTEM_CONTRACT_CALL_FAILED": {Rule.STATE_ROOT_MISMATCH: _BAL_ROOT_DIFFERS},
    _BLOCK + "INVALID_GASLIMIT": {Rule.BAL_GAS_LIMIT_EXCEEDED: _BAL_TOO_LARGE_FOR_HEADER},
    _TX + "GAS_ALLOWANCE_EXCEEDED": {Rule.BAL_GAS_LIMIT_EXCEEDED: _BAL_TOO_LARGE_FOR_HEADER},
    _BLOCK + "INVALID_REQUESTS": {
        Rule.BLOCK_HASH_MISMATCH: "engine pass on a blockchain_test: the file holds only the header's "
        "requestsHash, so the harness sends the requests execution collects; a header committing to "
        "others makes the payload's fields hash to another block, the only check the node can make",
    },
}


class UnknownException(AssertionError):
    """The fixture expects an exception the table does not know: add it to EXPECTED_RULES."""


class WrongRejection(AssertionError):
    """A block the fixture expects invalid was rejected, but by a rule that does not check that."""


def rules_for(expected: str) -> frozenset[Rule]:
    """Every rule that answers ``expected`` (alternatives ``A|B`` joined); unknown names raise."""
    rules: set[Rule] = set()
    for name in expected.split("|"):
        if name not in EXPECTED_RULES:
            raise UnknownException(f"exception {name} is not in ef-tests/exception_map.py")
        rules |= EXPECTED_RULES[name] | set(EARLIER_RULES.get(name, {}))
    return frozenset(rules)


def check_rejection(rule: str, expected: str, message: str) -> None:
    """Raise WrongRejection unless ``rule`` answers the exception the fixture ``expected``."""
    if rule not in rules_for(expected):
        raise WrongRejection(f"rejected by {rule} ({message}), but the fixture expects {expected}")
