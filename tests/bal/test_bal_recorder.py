"""bal/recorder.py fed by client/account_db.py: the BAL a block really produces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from recorder_world import CODE, NEW_CODE, A, B, C, D, new_db, parent_state

from bal.mismatch import (
    BalMismatch,
    ExtraAccount,
    ExtraChange,
    ExtraStorageRead,
    MissingAccount,
    MissingChange,
    MissingStorageRead,
    WrongPostValue,
    first_difference,
)
from bal.recorder import BalRecorder, IndexOrderError
from bal.rlp_codec import decode_bal, encode_bal
from bal.types import (
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    SlotChanges,
    StorageChange,
)
from bal.validation import validate_structure
from client.account_db import StoreAccountDB
from client.bal_recording import RecordingError
from storage import MemoryStore


@pytest.fixture(scope="module")
def parent() -> tuple[MemoryStore, bytes]:
    return parent_state()


def recording(parent: tuple[MemoryStore, bytes]) -> tuple[StoreAccountDB, BalRecorder]:
    db = new_db(parent)
    recorder = BalRecorder()
    db.start_recording(recorder)
    return db, recorder


def accounts_of(bal: BlockAccessList) -> dict[bytes, AccountChanges]:
    validate_structure(bal)
    return {a.address: a for a in bal.accounts}


def finish(db: StoreAccountDB, recorder: BalRecorder, index: int) -> dict[bytes, AccountChanges]:
    db.finish_index(index)
    return accounts_of(recorder.build())


# -- changes per index ------------------------------------------------------------


def test_a_balance_change_is_recorded_at_its_index(parent: Any) -> None:
    db, recorder = recording(parent)
    db.finish_index(0)  # no pre-execution system calls
    db.set_balance(B, 5)
    db.finish_index(1)
    db.set_balance(D, db.get_balance(D) - 7)
    accounts = finish(db, recorder, 2)
    assert set(accounts) == {B, D}
    assert accounts[B] == AccountChanges(B, balance_changes=(BalanceChange(1, 5),))
    assert accounts[D].balance_changes == (BalanceChange(2, 43),)
    assert accounts[D].nonce_changes == () and accounts[D].code_changes == ()


def test_a_net_zero_change_within_a_unit_is_not_recorded_but_the_address_is(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_balance(A, 150)
    db.set_nonce(A, 4)
    db.set_balance(A, 100)
    db.set_nonce(A, 3)
    db.set_balance(C, 1)
    db.set_balance(C, 0)
    accounts = finish(db, recorder, 1)
    assert accounts[A] == AccountChanges(A)
    assert accounts[C] == AccountChanges(C)


def test_a_new_account_with_code_and_nonce(parent: Any) -> None:
    db, recorder = recording(parent)
    db.increment_nonce(B)
    db.set_code(B, NEW_CODE)
    db.set_storage(B, 7, 70)
    accounts = finish(db, recorder, 3)
    assert accounts[B] == AccountChanges(
        B,
        storage_changes=(SlotChanges(7, (StorageChange(3, 70),)),),
        nonce_changes=(NonceChange(3, 1),),
        code_changes=(CodeChange(3, NEW_CODE),),
    )


def test_a_write_then_revert_becomes_a_read(parent: Any) -> None:
    db, recorder = recording(parent)
    checkpoint = db.record()
    db.set_storage(A, 5, 7)  # a fresh slot
    db.set_storage(A, 1, 99)  # an existing one
    db.set_balance(B, 3)
    db.discard(checkpoint)
    accounts = finish(db, recorder, 1)
    assert accounts[A] == AccountChanges(A, storage_reads=(1, 5))
    assert accounts[B] == AccountChanges(B), "the reverted write's address stays touched"


def test_a_no_op_storage_write_is_a_read(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_storage(A, 1, 11)  # the value it already has
    db.set_storage(A, 3, 0)  # an empty slot written with zero
    accounts = finish(db, recorder, 1)
    assert accounts[A] == AccountChanges(A, storage_reads=(1, 3))


def test_a_slot_changed_in_one_unit_and_read_in_another_is_only_a_change(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_storage(A, 1, 12)
    db.finish_index(1)
    assert db.get_storage(A, 1) == 12
    db.set_storage(A, 1, 12)  # a no-op write in unit 2 is also just a read
    accounts = finish(db, recorder, 2)
    assert accounts[A].storage_changes == (SlotChanges(1, (StorageChange(1, 12),)),)
    assert accounts[A].storage_reads == ()


def test_values_returning_to_an_earlier_value_are_recorded_at_each_index(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_storage(A, 1, 12)
    db.set_balance(A, 200)
    db.finish_index(1)
    db.set_storage(A, 1, 11)  # back to the parent's value
    db.set_balance(A, 100)
    db.finish_index(2)
    db.set_storage(A, 1, 0)
    accounts = finish(db, recorder, 4)  # index 3 changed nothing
    assert accounts[A].storage_changes == (
        SlotChanges(1, (StorageChange(1, 12), StorageChange(2, 11), StorageChange(4, 0))),
    )
    assert accounts[A].balance_changes == (BalanceChange(1, 200), BalanceChange(2, 100))


def test_units_compare_with_the_state_before_the_unit_not_the_transaction_layer(parent: Any) -> None:
    """py-evm's lock_changes inside a unit (a transaction start) does not split the unit."""
    db, recorder = recording(parent)
    db.set_storage(A, 1, 12)
    db.set_balance(A, 1)
    db.lock_changes()
    db.set_storage(A, 1, 11)  # back to the value before the unit
    db.set_nonce(B, 1)
    db.lock_changes()
    accounts = finish(db, recorder, 0)
    assert accounts[A] == AccountChanges(A, storage_reads=(1,), balance_changes=(BalanceChange(0, 1),))
    assert accounts[B].nonce_changes == (NonceChange(0, 1),)


def test_a_wipe_folded_inside_a_unit_keeps_the_slots_values_from_before_the_unit(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_storage(A, 3, 33)
    db.finish_index(1)
    db.delete_storage(A)  # A keeps its account; its storage (1: 11, 2: 22, 3: 33) is gone
    db.lock_changes()
    db.set_storage(A, 2, 22)  # written back to its value before the unit
    db.set_storage(A, 3, 33)
    db.set_storage(A, 1, 5)
    accounts = finish(db, recorder, 2)
    assert accounts[A].storage_changes == (
        SlotChanges(1, (StorageChange(2, 5),)),
        SlotChanges(3, (StorageChange(1, 33),)),
    )
    assert accounts[A].storage_reads == (2,)


def test_original_value_reads_are_not_reads(parent: Any) -> None:
    db, recorder = recording(parent)
    assert db.get_storage(A, 2, from_journal=False) == 22
    assert db.get_storage(A, 1) == 11
    accounts = finish(db, recorder, 1)
    assert accounts[A].storage_reads == (1,)


# -- touches ------------------------------------------------------------------------

ACCOUNT_OPS: dict[str, Callable[[StoreAccountDB, bytes], object]] = {
    "get_balance": lambda db, a: db.get_balance(a),
    "set_balance": lambda db, a: db.set_balance(a, 0),
    "get_nonce": lambda db, a: db.get_nonce(a),
    "set_nonce": lambda db, a: db.set_nonce(a, 0),
    "increment_nonce": lambda db, a: db.increment_nonce(a),
    "get_code": lambda db, a: db.get_code(a),
    "get_code_hash": lambda db, a: db.get_code_hash(a),
    "set_code": lambda db, a: db.set_code(a, b""),
    "delete_code": lambda db, a: db.delete_code(a),
    "account_exists": lambda db, a: db.account_exists(a),
    "account_is_empty": lambda db, a: db.account_is_empty(a),
    "account_has_code_or_nonce": lambda db, a: db.account_has_code_or_nonce(a),
    "touch_account": lambda db, a: db.touch_account(a),
    "delete_account": lambda db, a: db.delete_account(a),
    "delete_storage": lambda db, a: db.delete_storage(a),
}


@pytest.mark.parametrize("op", sorted(ACCOUNT_OPS))
def test_every_account_access_touches_and_survives_a_discard(parent: Any, op: str) -> None:
    db, recorder = recording(parent)
    checkpoint = db.record()
    ACCOUNT_OPS[op](db, C)
    db.discard(checkpoint)
    accounts = finish(db, recorder, 1)
    assert list(accounts) == [C]
    if op == "increment_nonce":
        assert accounts[C] == AccountChanges(C), "the reverted nonce change is not a change"


def test_touches_and_reads_survive_a_discard_to_before_the_transaction(parent: Any) -> None:
    db, recorder = recording(parent)
    checkpoint = db.record()
    db.lock_changes()  # the transaction starts after the checkpoint was taken
    db.get_storage(A, 9)
    db.get_nonce(C)
    db.discard(checkpoint)
    accounts = finish(db, recorder, 1)
    assert accounts == {A: AccountChanges(A, storage_reads=(9,)), C: AccountChanges(C)}


def test_warm_marks_do_not_touch(parent: Any) -> None:
    db, recorder = recording(parent)
    db.mark_address_warm(C)
    db.mark_storage_warm(A, 1)
    assert db.is_address_warm(C) and db.is_storage_warm(A, 1)
    assert not db.is_address_warm(B) and not db.is_storage_warm(A, 2)
    db.finish_index(1)
    assert recorder.build() == BlockAccessList()


def test_account_deltas_after_recording_adds_no_touches(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_code(B, NEW_CODE)  # account_deltas reads B's new code
    db.set_storage(A, 1, 5)
    db.finish_index(1)
    before = recorder.build()
    deltas = {d.address: d for d in db.account_deltas()}
    assert deltas[B].code == NEW_CODE and deltas[A].storage == {1: 5}
    assert recorder.build() == before
    assert set(accounts_of(before)) == {A, B}
    assert db.stop_recording() is recorder


def test_reads_outside_execution_are_not_recorded(parent: Any) -> None:
    db, recorder = recording(parent)
    with db.paused():
        assert db.get_balance(D) == 50 and db.get_storage(A, 2) == 22 and db.get_code(A) == CODE
    db.get_balance(B)
    db.finish_index(0)
    assert [a.address for a in recorder.build().accounts] == [B]


def test_recording_is_off_unless_started(parent: Any) -> None:
    db = new_db(parent)
    db.set_balance(B, 1)
    db.get_storage(A, 1)
    assert db.recorder is None
    with pytest.raises(RecordingError):
        db.finish_index(0)
    with pytest.raises(RecordingError):
        db.stop_recording()
    recorder = BalRecorder()
    db.start_recording(recorder)  # the writes made before are the baseline
    assert db.get_balance(B) == 1 and db.get_storage(A, 1) == 11
    with pytest.raises(RecordingError, match="already"):
        db.start_recording(BalRecorder())
    db.finish_index(0)
    assert accounts_of(recorder.build()) == {
        A: AccountChanges(A, storage_reads=(1,)),
        B: AccountChanges(B),
    }, "only what happened after the start is recorded, compared with the state at the start"


def test_indices_close_once_and_in_order(parent: Any) -> None:
    db, recorder = recording(parent)
    db.finish_index()  # 0
    db.finish_index(2)
    with pytest.raises(RecordingError):
        db.finish_index(2)
    with pytest.raises(IndexOrderError):
        recorder.record_unit(1, {}, {}, lambda h: b"")
    db.set_balance(B, 1)
    db.finish_index()
    assert accounts_of(recorder.build())[B].balance_changes == (BalanceChange(3, 1),)


def test_stop_recording_refuses_writes_in_no_unit(parent: Any) -> None:
    db, recorder = recording(parent)
    db.finish_index(0)
    db.set_storage(A, 1, 1)
    with pytest.raises(RecordingError, match="finish_index"):
        db.stop_recording()
    db.finish_index(1)
    assert db.stop_recording() is recorder
    assert db.recorder is None
    db.get_balance(C)  # no longer recorded
    assert C not in accounts_of(recorder.build())


# -- destruction ---------------------------------------------------------------------


def test_deleting_an_existing_account_records_its_fields_going_to_zero(parent: Any) -> None:
    db, recorder = recording(parent)
    db.delete_account(A)
    accounts = finish(db, recorder, 1)
    assert accounts[A] == AccountChanges(
        A,
        balance_changes=(BalanceChange(1, 0),),
        nonce_changes=(NonceChange(1, 0),),
        code_changes=(CodeChange(1, b""),),
    )


def test_created_and_destroyed_in_one_unit_leaves_reads_and_the_lost_balance(parent: Any) -> None:
    db, recorder = recording(parent)
    db.finish_index(0)
    for address in (B, D):  # B: a fresh address; D: pre-funded with 50
        db.set_nonce(address, 1)
        db.set_code(address, NEW_CODE)
        db.set_storage(address, 4, 9)
        db.get_storage(address, 8)
        db.set_balance(address, db.get_balance(address) + 10)
        db.set_balance(C, db.get_balance(C) + db.get_balance(address))
        db.set_balance(address, 0)
        db.delete_account(address)
    accounts = finish(db, recorder, 1)
    assert accounts[B] == AccountChanges(B, storage_reads=(4, 8))
    assert accounts[D] == AccountChanges(D, storage_reads=(4, 8), balance_changes=(BalanceChange(1, 0),))
    assert accounts[C].balance_changes == (BalanceChange(1, 70),)


def test_storage_written_before_a_destruction_in_an_earlier_unit_stays_a_change(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_nonce(B, 1)
    db.set_storage(B, 4, 9)
    db.finish_index(1)
    db.delete_account(B)
    accounts = finish(db, recorder, 2)
    assert accounts[B].storage_changes == (SlotChanges(4, (StorageChange(1, 9),)),)
    assert accounts[B].nonce_changes == (NonceChange(1, 1), NonceChange(2, 0))


def test_a_discarded_destruction_is_not_one(parent: Any) -> None:
    db, recorder = recording(parent)
    db.set_storage(A, 1, 5)
    checkpoint = db.record()
    db.delete_account(A)
    db.discard(checkpoint)
    accounts = finish(db, recorder, 1)
    assert accounts[A] == AccountChanges(A, storage_changes=(SlotChanges(1, (StorageChange(1, 5),)),))


# -- explaining a mismatch -----------------------------------------------------------


@pytest.fixture
def executed(parent: Any) -> BalRecorder:
    db, recorder = recording(parent)
    db.set_storage(A, 1, 12)
    db.get_storage(A, 2)
    db.set_balance(B, 5)
    db.finish_index(1)
    db.set_balance(B, 6)
    db.get_nonce(C)
    db.finish_index(2)
    return recorder


def replace_account(bal: BlockAccessList, address: bytes, **fields: Any) -> BlockAccessList:
    from dataclasses import replace

    return BlockAccessList(
        tuple(replace(a, **fields) if a.address == address else a for a in bal.accounts)
    )


def test_the_same_bal_matches(executed: BalRecorder) -> None:
    bal = executed.build()
    assert first_difference(bal, bal) is None
    # Equal as a value: a decoded copy (which keeps its RLP) matches too.
    assert first_difference(bal, decode_bal(encode_bal(bal))) is None


def test_mismatch_names_a_missing_or_extra_account(executed: BalRecorder) -> None:
    bal = executed.build()
    without_c = BlockAccessList(tuple(a for a in bal.accounts if a.address != C))
    found = first_difference(bal, without_c)
    assert isinstance(found, MissingAccount) and found.address == C and C.hex() in str(found)
    with_d = BlockAccessList(tuple(sorted(bal.accounts + (AccountChanges(D),), key=lambda a: a.address)))
    found = first_difference(bal, with_d)
    assert isinstance(found, ExtraAccount) and found.address == D and found.rule == "extra-account"


def test_mismatch_names_a_missing_or_extra_read(executed: BalRecorder) -> None:
    bal = executed.build()
    found = first_difference(bal, replace_account(bal, A, storage_reads=()))
    assert isinstance(found, MissingStorageRead) and (found.address, found.slot) == (A, 2)
    found = first_difference(bal, replace_account(bal, A, storage_reads=(2, 3)))
    assert isinstance(found, ExtraStorageRead) and found.slot == 3
    assert "0x3" in found.where


def test_mismatch_names_the_wrong_post_value_and_its_index(executed: BalRecorder) -> None:
    bal = executed.build()
    found = first_difference(bal,
        replace_account(bal, B, balance_changes=(BalanceChange(1, 5), BalanceChange(2, 7)))
    )
    assert isinstance(found, WrongPostValue)
    assert (found.address, found.field, found.index, found.executed, found.given) == (B, "balance", 2, 6, 7)
    found = first_difference(bal,
        replace_account(bal, A, storage_changes=(SlotChanges(1, (StorageChange(1, 13),)),))
    )
    assert isinstance(found, WrongPostValue) and (found.slot, found.index) == (1, 1)


def test_mismatch_names_a_missing_or_extra_change(executed: BalRecorder) -> None:
    bal = executed.build()
    moved = replace_account(bal, B, balance_changes=(BalanceChange(2, 5), BalanceChange(3, 6)))
    found = first_difference(bal, moved)
    assert isinstance(found, MissingChange) and (found.field, found.index) == ("balance", 1)
    extra = replace_account(bal, C, nonce_changes=(NonceChange(2, 1),))
    found = first_difference(bal, extra)
    assert isinstance(found, ExtraChange) and (found.address, found.field, found.index) == (C, "nonce", 2)
    # A slot the BAL lists as read instead of changed: the change is what is missing first.
    as_read = replace_account(bal, A, storage_changes=(), storage_reads=(1, 2))
    found = first_difference(bal, as_read)
    assert isinstance(found, MissingChange) and found.slot == 1 and found.rule == "missing-change"
    assert isinstance(found, BalMismatch)
