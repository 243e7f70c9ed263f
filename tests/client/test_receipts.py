"""Receipts built from a transaction's outcome equal py-evm's, bloom included."""

from __future__ import annotations

import pickle

from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from hypothesis import given
from hypothesis import strategies as st
from signed_transactions import signed_legacy_and_dynamic

from client.forks.amsterdam.later_part import TransactionOutcome
from client.forks.receipts import logs_bloom, make_receipt

log_entries = st.lists(
    st.tuples(
        st.binary(min_size=20, max_size=20),
        st.lists(st.integers(min_value=0, max_value=2**256 - 1), max_size=4).map(tuple),
        st.binary(max_size=64),
    ),
    max_size=6,
).map(tuple)


@given(log_entries)
def test_logs_bloom_is_the_receipts_bloom(logs: tuple) -> None:
    # py-evm's Receipt derives its bloom from the logs with eth-bloom when none is given.
    derived = Receipt(b"\x01", 21000, [Log(*entry) for entry in logs])
    assert logs_bloom(logs) == derived.bloom


@given(log_entries, st.booleans(), st.integers(min_value=0, max_value=2**63))
def test_make_receipt_equals_pyevms(logs: tuple, failed: bool, cumulative: int) -> None:
    status = b"" if failed else b"\x01"
    for transaction in signed_legacy_and_dynamic():
        ours = make_receipt(transaction, status, cumulative, logs, logs_bloom(logs))
        theirs = transaction.make_receipt(status, cumulative, logs)
        assert type(ours) is type(theirs)
        assert ours.encode() == theirs.encode()


@given(log_entries, st.booleans(), st.integers(min_value=0, max_value=2**63))
def test_an_outcome_crosses_a_pipe_unchanged(logs: tuple, failed: bool, gas: int) -> None:
    outcome = TransactionOutcome(gas, gas + 1, gas // 2, failed, logs, logs_bloom(logs))
    assert pickle.loads(pickle.dumps(outcome)) == outcome
