"""Errors raised for malformed or structurally invalid block access lists.

Every rule has its own exception class so that callers (the EF runner, the
Engine API's ``validationError``) can name exactly which rule a BAL broke, and
tests can assert on the rule rather than on message text. Each exception
carries ``rule`` (a stable, machine-readable name) and ``where`` (a path to the
offending entry, such as ``accounts[3].storageChanges[1].slot``).
"""

from __future__ import annotations


class BalError(ValueError):
    """Base class of everything the BAL library rejects."""

    rule: str = "invalid-bal"

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        text = f"{self.rule}: {message}"
        if where:
            text += f" (at {where})"
        super().__init__(text)


# --- decoding: the bytes or JSON do not describe a BAL at all -----------------


class BalDecodeError(BalError):
    """The input could not be decoded into a BAL."""

    rule = "malformed"


class MalformedRlp(BalDecodeError):
    rule = "malformed-rlp"


class WrongShape(BalDecodeError):
    """A list where a string was expected, a wrong field count, and so on."""

    rule = "wrong-shape"


class NonCanonicalInteger(BalDecodeError):
    """An RLP integer with leading zero bytes (zero must be the empty string)."""

    rule = "non-canonical-integer"


class IntegerTooWide(BalDecodeError):
    """An integer wider than its field allows (u32 index, u64 nonce, u256 value)."""

    rule = "integer-too-wide"


class BadAddress(BalDecodeError):
    rule = "bad-address"


class MalformedJson(BalDecodeError):
    rule = "malformed-json"


# --- structural validation: a well-formed BAL that breaks an EIP-7928 rule ----


class BalValidationError(BalError):
    """The BAL decodes but violates an EIP-7928 structural rule."""

    rule = "invalid-structure"


class AccountsNotSorted(BalValidationError):
    rule = "accounts-not-ascending"


class DuplicateAccount(BalValidationError):
    rule = "duplicate-account"


class SlotsNotSorted(BalValidationError):
    rule = "slots-not-ascending"


class DuplicateSlot(BalValidationError):
    rule = "duplicate-slot"


class ReadsNotSorted(BalValidationError):
    rule = "reads-not-ascending"


class DuplicateRead(BalValidationError):
    rule = "duplicate-read"


class IndicesNotSorted(BalValidationError):
    rule = "indices-not-ascending"


class DuplicateIndex(BalValidationError):
    rule = "duplicate-index"


class EmptySlotChanges(BalValidationError):
    """A storage-change entry that lists no change at all."""

    rule = "empty-slot-changes"


class SlotReadAndWritten(BalValidationError):
    rule = "slot-read-and-written"


class IndexOutOfRange(BalValidationError):
    rule = "index-out-of-range"


class CodeTooLarge(BalValidationError):
    rule = "code-too-large"


class TooManyItems(BalValidationError):
    """More addresses plus unique slots than the block gas limit pays for."""

    rule = "bal-gas-limit-exceeded"


class HashMismatch(BalValidationError):
    """keccak256(rlp(bal)) differs from the header's blockAccessListHash."""

    rule = "hash-mismatch"
