"""A block recorded in two parts (EIP-7928 parallel execution) records what one recording does.

The later part starts from the state the BAL claims after the first part
(``synthesize_deltas(..., through_index)``, made its base with ``start_from``
as the later-part worker does, or laid over the parent with ``apply_deltas``
as the node's process does before stolen transactions) and records its units
in a recorder opened after that index; the first part then takes the later
part's state and units (``apply_deltas``, ``absorb``) and closes the last
unit. BAL and final state must equal those of one database running every unit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from recorder_world import NEW_CODE, A, B, C, D, new_db, parent_state

from bal import synthesize_deltas
from bal.recorder import BalRecorder, IndexOrderError
from client.account_db import StoreAccountDB
from client.bal_recording import RecordingError
from storage import MemoryStore


@pytest.fixture(scope="module")
def parent() -> tuple[MemoryStore, bytes]:
    return parent_state()


Unit = Callable[[StoreAccountDB], Any]

# Units 0..5: the later part is units 3 and 4, unit 5 closes the block.
UNITS: list[Unit] = [
    lambda db: db.set_storage(A, 1, 12),
    lambda db: (db.set_balance(D, db.get_balance(D) - 10), db.set_balance(B, 10), db.get_storage(A, 2)),
    lambda db: (db.set_code(C, NEW_CODE), db.set_nonce(C, 1), db.set_storage(C, 5, 1)),
    # the later part reads what the first wrote, and writes what the first only read
    lambda db: (db.set_balance(B, db.get_balance(B) + db.get_storage(A, 1)), db.set_storage(A, 2, 0)),
    # D is emptied, so deleted at the end of its transaction (EIP-161, as py-evm's state does)
    lambda db: (
        db.get_code(C),
        db.set_storage(C, 5, db.get_storage(C, 5) + 1),
        db.set_balance(D, 0),
        db.delete_account(D),
    ),
    lambda db: db.set_balance(A, db.get_balance(A) + 1),
]
FIRST_PART_END = 2


def _run(db: StoreAccountDB, indices: range) -> None:
    for index in indices:
        UNITS[index](db)
        db.finish_index(index)


@pytest.mark.parametrize("start", [StoreAccountDB.start_from, StoreAccountDB.apply_deltas])
def test_two_parts_record_and_end_in_what_one_part_does(parent: Any, start: Callable[..., None]) -> None:
    whole = new_db(parent)
    whole_recorder = BalRecorder()
    whole.start_recording(whole_recorder)
    _run(whole, range(len(UNITS)))
    expected_bal = whole_recorder.build()
    expected_deltas = sorted(whole.account_deltas(), key=lambda d: d.address)

    later = new_db(parent)
    later_recorder = BalRecorder(after_index=FIRST_PART_END)
    later.start_recording(later_recorder)
    start(later, synthesize_deltas(expected_bal, through_index=FIRST_PART_END))
    _run(later, range(FIRST_PART_END + 1, len(UNITS) - 1))
    later_state = later.account_deltas()
    later.stop_recording()

    first = new_db(parent)
    recorder = BalRecorder()
    first.start_recording(recorder)
    _run(first, range(FIRST_PART_END + 1))
    first.apply_deltas(later_state)
    recorder.absorb(later_recorder)
    _run(first, range(len(UNITS) - 1, len(UNITS)))

    assert recorder.build() == expected_bal
    assert sorted(first.account_deltas(), key=lambda d: d.address) == expected_deltas


def test_a_recorder_absorbs_only_the_units_right_after_its_own(parent: Any) -> None:
    db = new_db(parent)
    recorder = BalRecorder()
    db.start_recording(recorder)
    _run(db, range(2))
    with pytest.raises(IndexOrderError):
        recorder.absorb(BalRecorder(after_index=2))
    recorder.absorb(BalRecorder(after_index=1))
    assert recorder.last_index == 1


def test_deltas_are_not_applied_over_pending_writes(parent: Any) -> None:
    db = new_db(parent)
    db.set_balance(A, 1)
    with pytest.raises(RecordingError):
        db.apply_deltas(())
