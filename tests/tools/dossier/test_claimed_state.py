"""The claimed state: account deltas applied to a flat state in memory, read as a block's parent state."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from client.tools.dossier.claimed_state import UNKNOWN_STORAGE_ROOT, ClaimedState, ClaimedStateSource
from pipeline.state_source import MissingCode
from storage import EMPTY_CODE_HASH, EMPTY_ROOT, MemoryStore

ALICE, CONTRACT = b"\xaa" * 20, b"\xcc" * 20
CODE = bytes.fromhex("600160005500")


def _delta(address: bytes, **fields: object) -> AccountDelta:
    storage = fields.pop("storage", {})
    return AccountDelta(address, storage=MappingProxyType(storage), **fields)  # type: ignore[arg-type]


def test_fields_not_named_keep_their_values() -> None:
    claimed = ClaimedState()
    claimed.apply([_delta(ALICE, balance=10, nonce=1, code=b"")])
    claimed.apply([_delta(ALICE, balance=7)])
    record = claimed.accounts[ALICE]
    assert (record.nonce, record.balance, record.code_hash, record.storage_root) == (
        1,
        7,
        EMPTY_CODE_HASH,
        EMPTY_ROOT,
    )


def test_the_storage_root_says_only_whether_storage_is_empty() -> None:
    claimed = ClaimedState()
    claimed.apply([_delta(CONTRACT, nonce=1, code=CODE, storage={1: 5, 2: 6})])
    assert claimed.accounts[CONTRACT].storage_root == UNKNOWN_STORAGE_ROOT
    claimed.apply([_delta(CONTRACT, storage={1: 0})])
    assert claimed.accounts[CONTRACT].storage_root == UNKNOWN_STORAGE_ROOT  # slot 2 still holds 6
    claimed.apply([_delta(CONTRACT, storage={2: 0, 3: 0})])  # zero written to an empty slot counts nothing
    assert claimed.accounts[CONTRACT].storage_root == EMPTY_ROOT
    assert claimed.storage == {}
    assert claimed.code[keccak(CODE)] == CODE


def test_an_account_left_with_nothing_leaves_the_state() -> None:
    claimed = ClaimedState()
    claimed.apply([_delta(ALICE, balance=3)])
    claimed.apply([_delta(ALICE, balance=0)])
    assert ALICE not in claimed.accounts


def test_cleared_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="not given cleared storage"):
        ClaimedState().apply([AccountDelta(ALICE, storage_cleared=True)])


def test_execution_reads_the_claimed_state_through_its_source() -> None:
    claimed = ClaimedState()
    claimed.apply([_delta(CONTRACT, balance=1, code=CODE, storage={9: 4})])
    source = ClaimedStateSource(claimed, MemoryStore(), EMPTY_ROOT)
    record = source.account(CONTRACT)
    assert record is not None and record.balance == 1
    assert source.account(ALICE) is None
    assert (source.storage(CONTRACT, 9), source.storage(CONTRACT, 8)) == (4, 0)
    assert source.code(record.code_hash) == CODE
    with pytest.raises(MissingCode):
        source.code(keccak(b"other code"))
