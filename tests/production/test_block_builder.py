"""The shared block builder on an in-memory dev chain: what goes in, what is left out, what is dropped.

Every built block is imported through the pipeline (BAL path on Amsterdam),
so "built" always means "valid as an importer sees it".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from wallet import ADDRESSES, GWEI, KEYS, dynamic

from client.block_builder import BlockAttributes, ProducedBlock, build_block
from client.blockchain import Blockchain
from client.chain_config import Fork
from client.dev_chain import dev_genesis_for
from client.dev_genesis import CHAIN_ID
from client.forks import FORK_VMS
from client.genesis import build_genesis
from client.head_state import head_view
from pipeline import import_block_sync
from storage import MemoryStore

FEE_RECIPIENT = b"\xfe" * 20


@dataclass(frozen=True)
class Offered:
    transaction: Any


class Offer:
    """Candidates in a fixed order, remembering which were shifted in and which popped out."""

    def __init__(self, transactions: list[Any]) -> None:
        self.queue = [Offered(tx) for tx in transactions]
        self.shifted: list[Any] = []
        self.popped: list[Any] = []

    def peek(self) -> Offered | None:
        return self.queue[0] if self.queue else None

    def shift(self) -> None:
        self.shifted.append(self.queue.pop(0).transaction)

    def pop(self) -> None:
        self.popped.append(self.queue.pop(0).transaction)


def new_chain(fork: Fork) -> Blockchain:
    genesis = build_genesis(dev_genesis_for(fork))
    blockchain = Blockchain(MemoryStore(), genesis.config)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    return blockchain


def build(blockchain: Blockchain, offer: Offer) -> ProducedBlock:
    head = head_view(blockchain).head
    attributes = BlockAttributes(head.timestamp + 12, FEE_RECIPIENT, b"\x01" * 32, b"\x02" * 32)
    return build_block(blockchain, head, attributes, offer, parent_has_flat_state=True)


def import_and_choose(blockchain: Blockchain, produced: ProducedBlock) -> None:
    imported = import_block_sync(blockchain, produced.rlp, bal=produced.block_access_list)
    assert imported.block_hash == produced.hash
    blockchain.set_forkchoice(imported.block_hash)


def unaffordable(nonce: int) -> Any:
    """Signed by a key with no balance: the fork refuses it."""
    builder = FORK_VMS[Fork.AMSTERDAM].get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=CHAIN_ID, nonce=nonce, max_priority_fee_per_gas=GWEI, max_fee_per_gas=20 * GWEI,
        gas=21_000, to=b"\x11" * 20, value=1, data=b"", access_list=[],
    )
    from eth_keys import keys

    return unsigned.as_signed_transaction(keys.PrivateKey(b"\x07" * 32))


@pytest.mark.parametrize("fork", [Fork.PRAGUE, Fork.AMSTERDAM])
def test_invalid_skipped_too_big_left_out_rest_included(fork: Fork) -> None:
    """Prague: a gas limit above what is left is left out. Amsterdam admits it: only its regular
    gas, capped at 2**24 (EIP-7825/8037), must fit, and a transfer has no state gas."""
    blockchain = new_chain(fork)
    gas_limit = head_view(blockchain).next_header.gas_limit
    good = [dynamic(0, 0), dynamic(1, 0, tip=2 * GWEI)]
    refused = unaffordable(0)
    big = dynamic(2, 0, gas=gas_limit - 30_000)  # fits alone, not after the others (Prague)
    after = dynamic(3, 0)
    offer = Offer([good[0], refused, good[1], big, after])
    produced = build(blockchain, offer)
    included = [candidate.transaction for candidate in produced.included]
    if fork == Fork.AMSTERDAM:
        assert included == [good[0], good[1], big, after]
        assert offer.popped == [refused]
    else:
        assert included == [good[0], good[1], after]
        assert offer.popped == [refused, big]
    assert [candidate.transaction for candidate in produced.invalid] == [refused]
    # Priority fees: 21000 gas each, at a tip of 1 gwei except the second's 2.
    assert produced.block_value == 21_000 * GWEI * (len(included) + 1)
    assert (produced.block_access_list is not None) == (fork == Fork.AMSTERDAM)
    assert produced.execution_requests == ()
    import_and_choose(blockchain, produced)
    state = head_view(blockchain).state()
    assert state.get_nonce(ADDRESSES[3]) == 1
    assert state.get_nonce(ADDRESSES[2]) == (1 if fork == Fork.AMSTERDAM else 0)


def test_a_nonce_refused_in_the_block_is_invalid_then_the_next_block_takes_the_rest() -> None:
    blockchain = new_chain(Fork.AMSTERDAM)
    gap = dynamic(0, 1)  # nonce 1 before nonce 0 went in: refused, the sender's later ones too
    produced = build(blockchain, Offer([gap, dynamic(1, 0)]))
    assert [c.transaction for c in produced.invalid] == [gap]
    import_and_choose(blockchain, produced)
    produced = build(blockchain, Offer([dynamic(0, 0), gap]))
    assert len(produced.included) == 2 and not produced.invalid
    import_and_choose(blockchain, produced)
    assert head_view(blockchain).state().get_nonce(KEYS[0].public_key.to_canonical_address()) == 2


def test_an_empty_block_with_a_withdrawal() -> None:
    blockchain = new_chain(Fork.OSAKA)
    head = head_view(blockchain).head
    from eth.vm.forks.shanghai.withdrawals import Withdrawal

    withdrawal = Withdrawal(0, 7, b"\x33" * 20, 100)
    attributes = BlockAttributes(
        head.timestamp + 12, FEE_RECIPIENT, b"\x01" * 32, b"\x02" * 32, (withdrawal,)
    )
    produced = build_block(blockchain, head, attributes, Offer([]), parent_has_flat_state=False)
    assert produced.header.gas_used == 0 and produced.block_value == 0
    import_and_choose(blockchain, produced)
    assert head_view(blockchain).state().get_balance(b"\x33" * 20) == 100 * GWEI
