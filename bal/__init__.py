"""EIP-7928 block-level access lists: types, codecs, hash, validation, deltas, comparison."""

from .deltas import AccountDelta, synthesize_deltas
from .errors import BalDecodeError, BalError, BalValidationError
from .json_codec import bal_from_engine_hex, bal_from_json, bal_to_engine_hex, bal_to_json
from .mismatch import BalMismatch, first_difference
from .rlp_codec import bal_hash, decode_bal, encode_bal
from .types import (
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    SlotChanges,
    StorageChange,
)
from .validation import check_hash, validate_structure

__all__ = [
    "AccountChanges",
    "AccountDelta",
    "BalDecodeError",
    "BalError",
    "BalMismatch",
    "BalValidationError",
    "BalanceChange",
    "BlockAccessList",
    "CodeChange",
    "NonceChange",
    "SlotChanges",
    "StorageChange",
    "bal_from_engine_hex",
    "bal_from_json",
    "bal_hash",
    "bal_to_engine_hex",
    "bal_to_json",
    "check_hash",
    "decode_bal",
    "encode_bal",
    "first_difference",
    "synthesize_deltas",
    "validate_structure",
]
