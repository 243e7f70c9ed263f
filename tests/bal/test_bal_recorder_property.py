"""bal/recorder.py against an independent oracle: state snapshots taken between units.

Random sequences of account-database operations (reads, writes, storage
wipes, nested snapshots with record / discard / commit, py-evm's
lock_changes, unit boundaries) are run on a recording StoreAccountDB. Without
account destruction, the recording model reduces to: a field changes at index
i exactly when its value after unit i differs from its value after the
previous unit (for a slot: and unit i wrote it; a wipe alone lists nothing);
every address the execution names is touched; every slot read or written and
never changed is a read.
"""

from __future__ import annotations

from typing import Any

import pytest
from bal_strategies import FUZZ
from hypothesis import example, given
from hypothesis import strategies as st
from state_world import committed_state, new_db

from bal.deltas import AccountDelta
from bal.recorder import BalRecorder
from bal.validation import validate_structure
from client.account_db import StoreAccountDB
from storage import MemoryStore

A, B, C, D = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20, b"\x0d" * 20
ADDRESSES = (A, B, C, D)
SLOTS = (1, 2, 3)
CODES = (b"", b"\x60\x01\x60\x00\x55", b"\x00")


@pytest.fixture(scope="module")
def parent() -> tuple[MemoryStore, bytes]:
    return committed_state(
        [
            AccountDelta(A, balance=100, nonce=3, code=CODES[1], storage={1: 1, 2: 2}),
            AccountDelta(D, balance=5),
        ]
    )


address = st.sampled_from(ADDRESSES)
small = st.integers(0, 3)
OPS = st.one_of(
    st.tuples(st.just("balance"), address, small),
    st.tuples(st.just("nonce"), address, small),
    st.tuples(st.just("code"), address, st.sampled_from(CODES)),
    st.tuples(st.just("sstore"), address, st.sampled_from(SLOTS), small),
    st.tuples(st.just("sload"), address, st.sampled_from(SLOTS)),
    st.tuples(st.just("original"), address, st.sampled_from(SLOTS)),
    st.tuples(st.just("exists"), address),
    st.tuples(st.just("wipe"), address),
    st.tuples(st.just("warm"), address, st.sampled_from(SLOTS)),
    st.just(("record",)),
    st.just(("discard",)),
    st.just(("commit",)),
    st.just(("lock",)),
    st.just(("finish",)),
)


def snapshot(db: StoreAccountDB) -> dict[tuple[bytes, str], object]:
    with db.paused():
        state: dict[tuple[bytes, str], object] = {}
        for a in ADDRESSES:
            state[a, "balance"] = db.get_balance(a)
            state[a, "nonce"] = db.get_nonce(a)
            state[a, "code"] = db.get_code(a)
            for s in SLOTS:
                state[a, f"slot {s}"] = db.get_storage(a, s)
        return state


@FUZZ
@given(ops=st.lists(OPS, max_size=60))
# a wipe folded by lock_changes inside a unit, then a slot written back to its old value
@example(ops=[("wipe", A), ("lock",), ("sstore", A, 1, 1), ("sstore", A, 2, 3), ("finish",)])
# a write, a nested revert and a transaction start inside one unit
@example(ops=[("sstore", A, 3, 1), ("record",), ("balance", B, 2), ("discard",), ("lock",), ("sload", A, 3)])
def test_recorded_changes_match_state_snapshots(parent: Any, ops: list[tuple[Any, ...]]) -> None:
    db = new_db(parent)
    recorder = BalRecorder()
    db.start_recording(recorder)
    snapshots = [snapshot(db)]
    checkpoints: list[int] = []
    touched: set[bytes] = set()
    accessed: set[tuple[bytes, int]] = set()
    written: list[set[tuple[bytes, int]]] = [set()]  # per unit
    for op in [*ops, ("finish",)]:
        kind = op[0]
        if kind == "balance":
            db.set_balance(op[1], op[2])
        elif kind == "nonce":
            db.set_nonce(op[1], op[2])
        elif kind == "code":
            db.set_code(op[1], op[2])
        elif kind == "sstore":
            db.get_storage(op[1], op[2])  # as SSTORE does
            db.set_storage(op[1], op[2], op[3])
            accessed.add((op[1], op[2]))
            written[-1].add((op[1], op[2]))
        elif kind == "sload":
            db.get_storage(op[1], op[2])
            accessed.add((op[1], op[2]))
        elif kind == "original":
            db.get_storage(op[1], op[2], from_journal=False)
            continue  # neither a touch nor a read
        elif kind == "exists":
            db.account_exists(op[1])
        elif kind == "wipe":
            db.delete_storage(op[1])
        elif kind == "warm":
            db.mark_address_warm(op[1])
            db.mark_storage_warm(op[1], op[2])
            continue
        elif kind == "record":
            checkpoints.append(db.record())
        elif kind == "discard" and checkpoints:
            db.discard(checkpoints.pop())
        elif kind == "commit" and checkpoints:
            db.commit(checkpoints.pop())
        elif kind == "lock":
            db.lock_changes()
        elif kind == "finish":
            db.finish_index()
            checkpoints.clear()
            snapshots.append(snapshot(db))
            written.append(set())
        if len(op) > 1:
            touched.add(op[1])
    assert db.stop_recording() is recorder

    bal = recorder.build()
    validate_structure(bal, tx_count=len(snapshots) - 2)
    expected_changes: dict[tuple[bytes, str], dict[int, object]] = {}
    for index in range(len(snapshots) - 1):
        before, after = snapshots[index], snapshots[index + 1]
        for key, value in after.items():
            a, field = key
            if field.startswith("slot") and (a, int(field.split()[1])) not in written[index]:
                continue
            if before[key] != value:
                expected_changes.setdefault(key, {})[index] = value
    recorded: dict[tuple[bytes, str], dict[int, object]] = {}
    reads: set[tuple[bytes, int]] = set()
    for account in bal.accounts:
        a = account.address
        for sc in account.storage_changes:
            recorded[a, f"slot {sc.slot}"] = {c.block_access_index: c.post_value for c in sc.changes}
        reads.update((a, s) for s in account.storage_reads)
        for name, changes in (
            ("balance", [(c.block_access_index, c.post_balance) for c in account.balance_changes]),
            ("nonce", [(c.block_access_index, c.post_nonce) for c in account.nonce_changes]),
            ("code", [(c.block_access_index, c.new_code) for c in account.code_changes]),
        ):
            if changes:
                recorded[a, name] = dict(changes)
    assert recorded == expected_changes
    changed_slots = {(a, int(f.split()[1])) for a, f in expected_changes if f.startswith("slot")}
    assert reads == accessed - changed_slots
    assert {a.address for a in bal.accounts} == touched
