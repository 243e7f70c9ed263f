"""pipeline.receipts: the direct encoding is byte for byte py-evm's ``receipt.encode()``, and decodes back."""

from __future__ import annotations

from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.vm.forks.prague.receipts import PragueReceiptBuilder
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.chain import BlockExecution
from pipeline.receipts import encode_receipt

logs = st.lists(
    st.builds(
        Log,
        address=st.binary(min_size=20, max_size=20),
        topics=st.lists(st.integers(min_value=0, max_value=2**256 - 1), max_size=4).map(tuple),
        data=st.binary(max_size=300),
    ),
    max_size=4,
)
receipts = st.builds(
    Receipt,
    # Status (b"" or b"\x01") from Byzantium on; a 32-byte state root before.
    state_root=st.one_of(st.sampled_from([b"", b"\x01"]), st.binary(min_size=32, max_size=32)),
    gas_used=st.one_of(st.integers(min_value=0, max_value=2**64), st.sampled_from([0, 127, 128, 255, 256])),
    logs=logs,
    bloom=st.integers(min_value=0, max_value=2**2048 - 1),
)


@settings(max_examples=200, deadline=None)
@given(receipt=receipts, type_id=st.sampled_from([None, 1, 2, 3, 4]))
def test_encoding_is_py_evms(receipt: Receipt, type_id: int | None) -> None:
    typed = receipt if type_id is None else PragueReceiptBuilder.typed_receipt_class(type_id, receipt)
    assert encode_receipt(typed) == typed.encode()


@settings(max_examples=100, deadline=None)
@given(receipt=receipts, type_id=st.sampled_from([None, 1, 2, 3, 4]))
def test_block_execution_decodes_its_receipts_once(receipt: Receipt, type_id: int | None) -> None:
    typed = receipt if type_id is None else PragueReceiptBuilder.typed_receipt_class(type_id, receipt)
    execution = BlockExecution(
        gas_used=receipt.gas_used,
        blob_gas_used=None,
        bloom=receipt.bloom,
        encoded_receipts=(encode_receipt(typed),),
        decode_receipt=PragueReceiptBuilder.decode,
        requests_hash=None,
        deltas=[],
    )
    first = execution.receipts
    assert first == (typed,)
    assert execution.receipts is first
