"""client/account_db.py: py-evm's account database over our flat state, layered and journaled."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak
from state_world import committed_state, new_db

from bal.deltas import AccountDelta
from bal.recorder import BalRecorder
from client.account_db import StateRootNotHere, StoreAccountDB
from merkle import merkleize
from storage import EMPTY_CODE_HASH, EMPTY_ROOT, MemoryStore

A, B, C = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20
CODE = b"\x60\x01\x60\x00\x55"


@pytest.fixture
def parent() -> tuple[MemoryStore, bytes]:
    """A committed parent state: A has balance, nonce, code and two slots; B is absent."""
    return committed_state([AccountDelta(A, balance=100, nonce=3, code=CODE, storage={1: 11, 2: 22})])


def test_reads_come_from_the_parent_state(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    assert (db.get_balance(A), db.get_nonce(A), db.get_code(A)) == (100, 3, CODE)
    assert (db.get_storage(A, 1), db.get_storage(A, 2), db.get_storage(A, 3)) == (11, 22, 0)
    assert db.account_exists(A) and not db.account_exists(B)
    assert db.get_code_hash(B) == EMPTY_CODE_HASH and db.account_is_empty(B)


def _counting_account_reads(db: StoreAccountDB) -> list[bytes]:
    """The addresses ``db`` asks its parent state for, in order, from now on."""
    source = db._source
    read, asked = source.account, []

    def counting_read(address: bytes) -> object:
        asked.append(address)
        return read(address)

    source.account = counting_read  # type: ignore[method-assign]
    return asked


def test_the_parent_account_is_read_from_the_source_once(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    asked = _counting_account_reads(db)
    for _ in range(3):
        assert (db.get_balance(A), db.get_nonce(A), db.account_exists(B)) == (100, 3, False)
    assert asked == [A, B]
    db.set_balance(A, 7)
    checkpoint = db.record()
    db.set_balance(A, 8)
    db.discard(checkpoint)
    db.lock_changes()
    assert (db.get_balance(A), db.get_nonce(A)) == (7, 3) and asked == [A, B]


def test_discard_rolls_back_everything_after_the_checkpoint(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.set_balance(A, 1)
    outer = db.record()
    db.set_balance(A, 2)
    db.set_storage(A, 1, 99)
    db.mark_address_warm(C)
    inner = db.record()
    db.delete_account(A)
    db.set_code(B, b"\x00")
    db.discard(inner)
    assert db.account_exists(A) and db.get_storage(A, 1) == 99 and db.get_code(B) == b""
    db.discard(outer)
    assert db.get_balance(A) == 1 and db.get_storage(A, 1) == 11 and not db.is_address_warm(C)


def test_commit_keeps_changes(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    checkpoint = db.record()
    db.set_storage(A, 2, 0)
    db.commit(checkpoint)
    assert db.get_storage(A, 2) == 0


def test_original_values_are_those_at_transaction_start(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.set_storage(A, 1, 50)
    db.lock_changes()  # the next transaction starts
    db.set_storage(A, 1, 60)
    db.delete_storage(A)
    assert db.get_storage(A, 1) == 0
    assert db.get_storage(A, 1, from_journal=False) == 50
    assert db.get_storage(A, 2, from_journal=False) == 22


def test_warm_sets_reset_per_transaction(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.mark_address_warm(B)
    db.mark_storage_warm(A, 1)
    assert db.is_address_warm(B) and db.is_storage_warm(A, 1)
    db.lock_changes()
    assert not db.is_address_warm(B) and not db.is_storage_warm(A, 1)


def test_deltas_carry_only_what_changed(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.set_storage(A, 1, 12)  # A: storage only
    db.set_balance(B, 5)  # B: a new account
    db.touch_account(C)  # C: touched, stays empty
    deltas = {d.address: d for d in db.account_deltas()}
    assert deltas[A].code is None and deltas[A].storage == {1: 12} and not deltas[A].storage_cleared
    assert (deltas[B].balance, deltas[B].nonce, deltas[B].code) == (5, 0, None)
    store, root = parent
    writes = merkleize(store, root, deltas.values())
    assert writes.accounts[C] is None, "an empty touched account does not enter the state"
    assert writes.accounts[A] is not None and writes.accounts[A].code_hash == keccak(CODE)


def test_a_deleted_account_leaves_the_state_with_its_storage(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.delete_account(A)
    (delta,) = db.account_deltas()
    assert delta.storage_cleared and (delta.balance, delta.nonce, delta.code) == (0, 0, b"")
    store, root = parent
    assert merkleize(store, root, [delta]).state_root == EMPTY_ROOT


def test_the_database_never_makes_a_root(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    with pytest.raises(StateRootNotHere):
        db.make_state_root()
    with pytest.raises(StateRootNotHere):
        db.state_root = b"\x01" * 32
    db.state_root = parent[1]  # setting the same root (py-evm's revert does) is fine


def test_account_has_storage_sees_every_layer(parent: tuple[MemoryStore, bytes]) -> None:
    """EIP-7610: storage anywhere (parent, earlier transactions, this one) is a collision."""
    db = new_db(parent)
    assert db.account_has_storage(A), "the parent's storage counts"
    assert not db.account_has_storage(B)
    db.set_storage(B, 1, 5)
    assert db.account_has_storage(B), "a write in this transaction counts"
    db.lock_changes()
    assert db.account_has_storage(B), "a write by an earlier transaction counts"
    db.set_storage(B, 1, 0)
    assert not db.account_has_storage(B), "zeroed again in this transaction"
    db.delete_storage(A)
    assert not db.account_has_storage(A), "wiped"
    recorder = BalRecorder()
    db.start_recording(recorder)
    db.account_has_storage(C)
    assert C not in recorder.touched and not any(address == C for address, _ in recorder.reads)


def test_a_claimed_account_is_read_when_used_and_not_before(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    asked = _counting_account_reads(db)
    db.start_from([AccountDelta(A, balance=7), AccountDelta(B, nonce=1, code=CODE)])
    assert asked == []
    assert (db.get_balance(A), db.get_nonce(A), db.get_code(A)) == (7, 3, CODE)
    assert asked == [A]
    assert (db.get_balance(B), db.get_nonce(B), db.get_code(B)) == (0, 1, CODE)
    assert asked == [A, B]


def test_a_later_part_reports_its_own_changes_not_its_start(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.start_from([AccountDelta(A, balance=7, storage={1: 5}), AccountDelta(B, balance=9)])
    assert (db.get_storage(A, 1), db.get_storage(A, 2)) == (5, 22)
    db.set_storage(A, 2, 1)
    db.set_balance(C, db.get_balance(B) + 1)
    db.lock_changes()
    deltas = {delta.address: delta for delta in db.account_deltas()}
    assert set(deltas) == {A, C}
    assert (dict(deltas[A].storage), deltas[A].balance) == ({2: 1}, None)
    assert (deltas[C].balance, deltas[C].nonce) == (10, 0)


def test_a_claim_that_clears_storage_or_empties_an_account(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    db.start_from([AccountDelta(A, storage={2: 9}, storage_cleared=True), AccountDelta(B, balance=0)])
    assert (db.get_storage(A, 1), db.get_storage(A, 2)) == (0, 9)
    assert db.account_has_storage(A)
    db.set_storage(A, 2, 0)
    assert not db.account_has_storage(A)
    assert not db.account_exists(B)


def test_applied_fields_are_laid_over_the_account_when_it_is_used(parent: tuple[MemoryStore, bytes]) -> None:
    db = new_db(parent)
    asked = _counting_account_reads(db)
    db.apply_deltas([AccountDelta(A, balance=1), AccountDelta(B, balance=2, nonce=0, code=b"")])
    db.apply_deltas([AccountDelta(A, nonce=4)])
    assert asked == []
    assert (db.get_balance(A), db.get_nonce(A), db.get_code(A)) == (1, 4, CODE)
    assert db.get_balance(B) == 2 and asked == [A]
    db.apply_deltas([AccountDelta(C, balance=3)])
    deltas = {delta.address: (delta.balance, delta.nonce) for delta in db.account_deltas()}
    assert deltas == {A: (1, 4), B: (2, 0), C: (3, 0)}
    # C's pending fields were laid over its parent record first; then each parent's code hash.
    assert asked[:2] == [A, C] and sorted(asked[2:]) == [A, B, C]
