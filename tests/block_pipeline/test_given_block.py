"""A block the caller has already decoded (the Engine API builds it from the payload) is not decoded again.

Same EF block as ``test_pipeline``: decoded here, handed to ``import_block``
with its RLP, it is imported with no second decoding, on both paths, to the
same stored state as the block decoded by the pipeline. A block of another
class than the fork's is not taken: the RLP is decoded as usual.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

import client.blockchain
from bal import BlockAccessList
from client.block_decoding import decode_block
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from client.forks import FORK_VMS
from client.genesis import parse_hex_bytes
from pipeline import import_block, import_block_sync
from storage import MemoryStore

from .bal_blocks import block_and_bal, dump_store


def _chain(test_case: dict[str, Any]) -> Blockchain:
    blockchain = Blockchain(MemoryStore(), config_from_fixture(test_case["network"], test_case["config"]))
    blockchain.init_genesis(test_case["pre"], parse_hex_bytes(test_case["genesisRLP"]))
    return blockchain


def _block_class(blockchain: Blockchain, block_rlp: bytes) -> type:
    prepared = blockchain.decode(block_rlp)
    return type(prepared.block)


@pytest.mark.parametrize("with_bal", [True, False], ids=["bal", "streaming"])
def test_a_given_block_is_imported_without_decoding_it_again(
    test_case: dict[str, Any], with_bal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    block_rlp, bal = block_and_bal(test_case)
    given_bal: BlockAccessList | None = bal if with_bal else None
    reference = _chain(test_case)
    import_block_sync(reference, block_rlp, given_bal)

    blockchain = _chain(test_case)
    block = decode_block(_block_class(blockchain, block_rlp), block_rlp)

    def no_second_decoding(*args: object) -> None:
        raise AssertionError("the given block was decoded again")

    monkeypatch.setattr(client.blockchain, "decode_block", no_second_decoding)
    imported = trio.run(lambda: import_block(blockchain, block_rlp, given_bal, block=block))
    assert imported.tx_count == len(block.transactions)
    assert dump_store(blockchain.store) == dump_store(reference.store)


def test_a_block_of_another_class_is_decoded_as_usual(test_case: dict[str, Any]) -> None:
    block_rlp, bal = block_and_bal(test_case)
    blockchain = _chain(test_case)
    fork_class = _block_class(blockchain, block_rlp)
    other_class = FORK_VMS["prague"].get_block_class()
    assert other_class is not fork_class
    foreign = other_class(decode_block(fork_class, block_rlp).header)
    prepared = blockchain.prepare(block_rlp, bal, block=foreign)
    assert type(prepared.block) is fork_class
    assert len(prepared.block.transactions) == len(decode_block(fork_class, block_rlp).transactions) > 0
