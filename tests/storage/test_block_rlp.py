"""A block split into the header and body RLP the store keeps, and joined back byte for byte."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st
from signed_transactions import signed_legacy_and_dynamic

from storage import Chain, MalformedBlock, MemoryStore, StoredBlock, WriteBatch, join_block, split_block

FIELD = st.binary(max_size=40)
# Transactions as opaque strings (typed ones are) or lists (legacy ones are): short and long lists both.
TRANSACTIONS = st.lists(st.one_of(st.binary(max_size=300), st.lists(FIELD, max_size=9)), max_size=30)
HEADER = st.lists(FIELD, min_size=15, max_size=21).map(lambda fields: fields[:8] + [b"\x07"] + fields[9:])
BODY_TAIL = st.lists(st.lists(st.lists(FIELD, max_size=4), max_size=3), max_size=2)  # uncles, withdrawals...


@given(HEADER, TRANSACTIONS, BODY_TAIL)
def test_join_undoes_split(header: list[bytes], transactions: list[object], tail: list[object]) -> None:
    block_rlp = rlp.encode([header, transactions, *tail] if tail else [header, transactions, []])
    encoded = split_block(block_rlp)
    assert join_block(encoded.header_rlp, encoded.body_rlp) == block_rlp


def test_a_body_that_is_not_a_list_is_refused() -> None:
    header_rlp = rlp.encode([b"\x01"] * 15)
    for body_rlp in (b"", rlp.encode(b"transactions")):
        with pytest.raises(MalformedBlock):
            join_block(header_rlp, body_rlp)


def test_the_chain_gives_a_stored_block_whole() -> None:
    block_rlp = rlp.encode([[b"\x02"] * 17, [b"\x01" * 70, [b"\x00"] * 9], [], []])
    encoded = split_block(block_rlp)
    store = MemoryStore()
    batch = WriteBatch()
    Chain.stage_block(
        batch, StoredBlock(encoded.block_hash, encoded.number, encoded.header_rlp, encoded.body_rlp)
    )
    store.commit(batch)
    chain = Chain(store)
    assert chain.block_rlp(encoded.block_hash) == block_rlp
    assert chain.block_rlp(b"\x00" * 32) is None


def test_transactions_as_the_trie_and_their_hashes_take_them() -> None:
    """A legacy transaction is its RLP list, a typed one the string the block holds: py-evm's encoding."""
    transactions = legacy, typed = signed_legacy_and_dynamic()
    in_block = [rlp.decode(legacy.encode()), typed.encode()]
    encoded = split_block(rlp.encode([[b"\x03"] * 17, in_block, [], []]))
    assert encoded.transaction_encodings == tuple(transaction.encode() for transaction in transactions)
    assert encoded.transaction_hashes == tuple(transaction.hash for transaction in transactions)
    assert encoded.transaction_count == 2
