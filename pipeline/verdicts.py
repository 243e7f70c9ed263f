"""Why a block is refused: one :class:`Rule` per check, one exception that carries it.

Every check that can refuse a block, wherever it runs (the chain's checks
before execution, execution itself, the join's checks after it, a BAL's
validation, the Engine API's payload checks), raises :class:`BlockRejected`
with a member of :class:`Rule`. The rule's value is the stable text the EF
runner's summaries and the Engine API's ``validationError`` start with, so
callers match on the member, never on message text.

The BAL library (``bal/``, a lower layer) names its rules as plain strings on
its exception classes; :meth:`Rule.of_bal_error` turns one into its member, and
a unit test checks that every BAL exception class has one. :data:`BAL_RULES`
says which rules mean "the given BAL is wrong" (the Engine API answers those
differently from a block whose transactions are wrong).
"""

from __future__ import annotations

from enum import StrEnum

from bal import BalError


class Rule(StrEnum):
    """Every rule a block, payload or block access list can break (values are stable names)."""

    # -- decoding and the chain's checks before execution ---------------------
    MALFORMED_BLOCK = "malformed-block"
    # A transaction type the block's fork does not have yet (e.g. EIP-7702's type 4 before Prague).
    UNSUPPORTED_TRANSACTION_TYPE = "unsupported-transaction-type"
    UNSUPPORTED_FORK = "unsupported-fork"
    BLOCK_TOO_LARGE = "block-too-large"
    INVALID_HEADER = "invalid-header"
    GAS_USED_ABOVE_LIMIT = "gas-used-above-limit"
    TRANSACTIONS_ROOT_MISMATCH = "transactions-root-mismatch"
    UNCLES_PRESENT = "uncles-present"
    WITHDRAWALS_ROOT_MISMATCH = "withdrawals-root-mismatch"
    UNEXPECTED_BLOCK_ACCESS_LIST = "unexpected-block-access-list"
    # -- execution --------------------------------------------------------------
    # (the two catch-alls: a ValidationError or a top-level VMError that
    # client.transaction_rules does not name more precisely)
    INVALID_TRANSACTION_OR_BLOCK = "invalid-transaction-or-block"
    INVALID_TRANSACTION = "invalid-transaction"
    DEPOSIT_LAYOUT = "deposit-layout"
    SYSTEM_CONTRACT_CALL_FAILED = "system-contract-call-failed"
    EXCESS_BLOB_GAS_MISMATCH = "excess-blob-gas-mismatch"
    BLOB_GAS_ABOVE_LIMIT = "blob-gas-above-limit"
    # -- execution: a transaction's checks (client.transaction_rules names them) ----
    TX_NONCE_MISMATCH = "nonce-mismatch"
    TX_NONCE_MAX = "nonce-max"
    TX_INTRINSIC_GAS_TOO_LOW = "intrinsic-gas-too-low"
    TX_GAS_LIMIT_ABOVE_CAP = "transaction-gas-limit-above-cap"
    TX_GAS_ABOVE_BLOCK_GAS_LEFT = "transaction-gas-above-block-gas-left"
    TX_INSUFFICIENT_FUNDS = "insufficient-funds"
    TX_MAX_FEE_BELOW_BASE_FEE = "max-fee-below-base-fee"
    TX_PRIORITY_FEE_ABOVE_MAX_FEE = "priority-fee-above-max-fee"
    TX_SENDER_NOT_EOA = "sender-not-eoa"
    TX_INITCODE_TOO_LARGE = "initcode-too-large"
    TX_CONTRACT_CREATION_NOT_ALLOWED = "contract-creation-not-allowed"
    TX_EMPTY_AUTHORIZATION_LIST = "empty-authorization-list"
    TX_NO_BLOBS = "no-blobs"
    TX_TOO_MANY_BLOBS = "too-many-blobs"
    TX_INVALID_BLOB_VERSIONED_HASH = "invalid-blob-versioned-hash"
    TX_MAX_BLOB_FEE_BELOW_BLOB_BASE_FEE = "max-blob-fee-below-blob-base-fee"
    # -- the join's checks after execution -----------------------------------------
    BLOCK_ACCESS_LIST_MISMATCH = "block-access-list-mismatch"
    GAS_USED_MISMATCH = "gas-used-mismatch"
    RECEIPTS_ROOT_MISMATCH = "receipts-root-mismatch"
    LOGS_BLOOM_MISMATCH = "logs-bloom-mismatch"
    BLOB_GAS_USED_MISMATCH = "blob-gas-used-mismatch"
    REQUESTS_HASH_MISMATCH = "requests-hash-mismatch"
    STATE_ROOT_MISMATCH = "state-root-mismatch"
    # -- the Engine API's payload checks (before the block is built) ---------------
    BLOCK_HASH_MISMATCH = "block-hash-mismatch"
    BLOB_VERSIONED_HASHES_MISMATCH = "blob-versioned-hashes-mismatch"
    MALFORMED_TRANSACTION = "malformed-transaction"
    MALFORMED_HEADER = "malformed-header"
    MALFORMED_BLOCK_ACCESS_LIST = "malformed-block-access-list"
    INVALID_ANCESTOR = "invalid-ancestor"
    # -- a given BAL: decoding (bal.errors) ----------------------------------------
    BAL_INVALID = "invalid-bal"
    BAL_MALFORMED = "malformed"
    BAL_MALFORMED_RLP = "malformed-rlp"
    BAL_WRONG_SHAPE = "wrong-shape"
    BAL_NON_CANONICAL_INTEGER = "non-canonical-integer"
    BAL_INTEGER_TOO_WIDE = "integer-too-wide"
    BAL_BAD_ADDRESS = "bad-address"
    BAL_MALFORMED_JSON = "malformed-json"
    # -- a given BAL: structure (bal.errors) ---------------------------------------
    BAL_INVALID_STRUCTURE = "invalid-structure"
    BAL_ACCOUNTS_NOT_ASCENDING = "accounts-not-ascending"
    BAL_DUPLICATE_ACCOUNT = "duplicate-account"
    BAL_SLOTS_NOT_ASCENDING = "slots-not-ascending"
    BAL_DUPLICATE_SLOT = "duplicate-slot"
    BAL_READS_NOT_ASCENDING = "reads-not-ascending"
    BAL_DUPLICATE_READ = "duplicate-read"
    BAL_INDICES_NOT_ASCENDING = "indices-not-ascending"
    BAL_DUPLICATE_INDEX = "duplicate-index"
    BAL_EMPTY_SLOT_CHANGES = "empty-slot-changes"
    BAL_SLOT_READ_AND_WRITTEN = "slot-read-and-written"
    BAL_INDEX_OUT_OF_RANGE = "index-out-of-range"
    BAL_CODE_TOO_LARGE = "code-too-large"
    BAL_GAS_LIMIT_EXCEEDED = "bal-gas-limit-exceeded"
    BAL_HASH_MISMATCH = "hash-mismatch"
    # -- a given BAL against the executed one (bal.mismatch) -----------------------
    BAL_MISMATCH = "bal-mismatch"
    BAL_MISSING_ACCOUNT = "missing-account"
    BAL_EXTRA_ACCOUNT = "extra-account"
    BAL_MISSING_STORAGE_READ = "missing-storage-read"
    BAL_EXTRA_STORAGE_READ = "extra-storage-read"
    BAL_MISSING_CHANGE = "missing-change"
    BAL_EXTRA_CHANGE = "extra-change"
    BAL_WRONG_POST_VALUE = "wrong-post-value"

    @classmethod
    def of_bal_error(cls, error: BalError) -> Rule:
        """The member for a BAL library error's rule name."""
        return cls(error.rule)


# The given BAL is wrong: it does not decode, breaks EIP-7928's structure,
# does not hash to the header's commitment, exceeds the item limit, or is not
# what execution produced. Everything the BAL library raises is one of these.
BAL_RULES: frozenset[Rule] = frozenset(
    {rule for rule in Rule if rule.name.startswith("BAL_")}
    | {Rule.BLOCK_ACCESS_LIST_MISMATCH, Rule.MALFORMED_BLOCK_ACCESS_LIST}
)


class BlockRejected(Exception):
    """The block is invalid: ``rule`` says which check failed, the message says how.

    ``str()`` is ``"<rule>: <message>"``. The arguments are kept as given, so a
    rejection raised in a worker process crosses the pipe with its type and rule.
    """

    def __init__(self, rule: Rule, message: str = "") -> None:
        super().__init__(rule, message)
        self.rule = Rule(rule)
        # A BAL error's text already starts with its rule: say it once.
        self.message = message.removeprefix(f"{self.rule}: ")

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"

    @classmethod
    def from_bal_error(cls, error: BalError) -> BlockRejected:
        return cls(Rule.of_bal_error(error), str(error))


class UnknownParent(LookupError):
    """The block's parent is not stored (the Engine API answers SYNCING)."""


def require(condition: bool, rule: Rule, message: str) -> None:
    """Raise ``BlockRejected(rule, message)`` unless ``condition`` holds."""
    if not condition:
        raise BlockRejected(rule, message)
