"""Receipts built from a transaction's outcome equal py-evm's, bloom included."""

from __future__ import annotations

from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth_keys import keys
from hypothesis import given
from hypothesis import strategies as st

from client.forks.amsterdam import BalrexAmsterdamVM
from client.forks.receipts import logs_bloom, make_receipt

KEY = keys.PrivateKey(b"\x42" * 32)

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


def _transactions() -> list:
    builder = BalrexAmsterdamVM.get_transaction_builder()
    legacy = builder.create_unsigned_transaction(
        nonce=0, gas_price=10, gas=21000, to=b"\x01" * 20, value=5, data=b""
    ).as_signed_transaction(KEY, chain_id=1)
    dynamic = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=1,
        nonce=1,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=10,
        gas=50000,
        to=b"\x02" * 20,
        value=0,
        data=b"\x00",
        access_list=(),
    ).as_signed_transaction(KEY)
    return [builder.decode(legacy.encode()), builder.decode(dynamic.encode())]


@given(log_entries, st.booleans(), st.integers(min_value=0, max_value=2**63))
def test_make_receipt_equals_pyevms(logs: tuple, failed: bool, cumulative: int) -> None:
    status = b"" if failed else b"\x01"
    for transaction in _transactions():
        ours = make_receipt(transaction, status, cumulative, logs, logs_bloom(logs))
        theirs = transaction.make_receipt(status, cumulative, logs)
        assert type(ours) is type(theirs)
        assert ours.encode() == theirs.encode()
