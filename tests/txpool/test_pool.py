"""The pool without processes: admission answers, replacement, ordering, eviction, a new head.

The chain is the dev genesis in memory, extended by ``ChainBuilder`` (blocks
executed and imported by balrex itself) where a test needs a new head.
"""

from __future__ import annotations

from typing import Any

import pytest
from wallet import ADDRESSES, GWEI, access_list_tx, dynamic, legacy

from client import txpool as tp
from client.dev_genesis import CHAIN_ID, DEV_BALANCE, dev_genesis
from client.head_state import head_view
from client.tools.bench_chain.builder import ChainBuilder


@pytest.fixture
def chain() -> ChainBuilder:
    return ChainBuilder(dev_genesis(), b"txpool tests")


def make_pool(**limits: Any) -> tp.TxPool:
    return tp.TxPool(CHAIN_ID, tp.PoolLimits(**limits))


def add(pool: tp.TxPool, chain: ChainBuilder, transaction: Any) -> tp.PoolTransaction:
    view = head_view(chain.blockchain)
    return pool.add(tp.decode_incoming(transaction.encode(), view), view)


def test_every_plain_type_enters(chain: ChainBuilder) -> None:
    pool = make_pool()
    for nonce, tx in enumerate((legacy(0, 0), access_list_tx(0, 1), dynamic(0, 2))):
        assert tx.nonce == nonce
        add(pool, chain, tx)
    assert [p.transaction.type_id for p in pool.transactions()] == [None, 1, 2]  # None: legacy
    assert pool.pending_nonce(ADDRESSES[0], 0) == 3


@pytest.mark.parametrize(
    ("transaction", "rule"),
    [
        (dynamic(0, 0, chain_id=CHAIN_ID + 1), tp.InvalidChainId),
        (legacy(0, 0, chain_id=None), tp.Unprotected),
        (dynamic(0, 0, value=DEV_BALANCE), tp.InsufficientFunds),
        (dynamic(0, 0, gas=20_999), tp.IntrinsicGasTooLow),
        (dynamic(0, 0, gas=36_000_001), tp.ExceedsBlockGasLimit),
        (dynamic(0, 0, tip=0), tp.Underpriced),
        (dynamic(0, 0, tip=2 * GWEI, fee_cap=GWEI), tp.InvalidTransaction),  # the fork: tip above fee cap
        # EIP-7623/7976 floor: 1 KiB of calldata needs more than 21000 + 16 per byte.
        (dynamic(0, 0, gas=21_000 + 16 * 1024, data=b"\x01" * 1024), tp.InvalidTransaction),
    ],
)
def test_admission_rules(chain: ChainBuilder, transaction: Any, rule: type[tp.TxRejected]) -> None:
    with pytest.raises(rule) as refused:
        add(make_pool(), chain, transaction)
    assert str(refused.value).startswith(rule.message)


def test_already_known_and_undecodable(chain: ChainBuilder) -> None:
    pool = make_pool()
    tx = dynamic(0, 0)
    add(pool, chain, tx)
    with pytest.raises(tp.AlreadyKnown):
        add(pool, chain, tx)
    view = head_view(chain.blockchain)
    for garbage in (b"", b"\x02\xc0", b"\x7f" + tx.encode()[1:], tx.encode()[:-3]):
        with pytest.raises(tp.UndecodableTransaction):
            tp.decode_incoming(garbage, view)


def test_bad_signature_is_invalid_sender(chain: ChainBuilder) -> None:
    tx = dynamic(0, 0)
    forged = tx.copy(r=0)  # not a signature: r must be in [1, n)
    with pytest.raises(tp.InvalidSender):
        add(make_pool(), chain, forged)


def test_replacement_needs_ten_percent_on_both_fees(chain: ChainBuilder) -> None:
    pool = make_pool()
    first = add(pool, chain, dynamic(0, 0, tip=10 * GWEI, fee_cap=100 * GWEI))
    with pytest.raises(tp.ReplacementUnderpriced):
        add(pool, chain, dynamic(0, 0, tip=10 * GWEI + 1, fee_cap=200 * GWEI))  # tip +0%
    with pytest.raises(tp.ReplacementUnderpriced):
        add(pool, chain, dynamic(0, 0, tip=20 * GWEI, fee_cap=109 * GWEI))  # fee cap +9%
    second = add(pool, chain, dynamic(0, 0, tip=11 * GWEI, fee_cap=110 * GWEI))
    assert pool.get(first.hash) is None and pool.get(second.hash) is second
    assert len(pool) == 1


def test_pending_order_by_tip_in_nonce_order(chain: ChainBuilder) -> None:
    pool = make_pool()
    base_fee = head_view(chain.blockchain).base_fee
    a0 = add(pool, chain, dynamic(0, 0, tip=1 * GWEI))
    a1 = add(pool, chain, dynamic(0, 1, tip=9 * GWEI))  # pays most, but after a0
    b0 = add(pool, chain, dynamic(1, 0, tip=3 * GWEI))
    c0 = add(pool, chain, dynamic(2, 0, tip=base_fee // 2, fee_cap=base_fee - 1))  # below the base fee: waits
    d1 = add(pool, chain, dynamic(3, 1, tip=5 * GWEI))  # nonce gap: waits
    order = [p.hash for p in pool.pending(base_fee)]
    assert order == [b0.hash, a0.hash, a1.hash]
    assert c0.hash in pool.by_hash and d1.hash in pool.by_hash
    # At a lower base fee c0 is payable; its effective tip is then what orders it.
    assert c0.hash in [p.hash for p in pool.pending(base_fee - 1)]


def test_pending_queue_pop_skips_the_sender(chain: ChainBuilder) -> None:
    pool = make_pool()
    base_fee = head_view(chain.blockchain).base_fee
    add(pool, chain, dynamic(0, 0, tip=5 * GWEI))
    add(pool, chain, dynamic(0, 1, tip=5 * GWEI))
    b0 = add(pool, chain, dynamic(1, 0, tip=1 * GWEI))
    queue = pool.pending(base_fee)
    first = queue.peek()
    assert first is not None and first.sender == ADDRESSES[0]
    queue.pop()  # did not fit: the sender's nonce 1 cannot follow
    assert [p.hash for p in queue] == [b0.hash]


def test_eviction_of_the_lowest_tip(chain: ChainBuilder) -> None:
    pool = make_pool(max_count=3)
    low = add(pool, chain, dynamic(0, 0, tip=1 * GWEI))
    add(pool, chain, dynamic(1, 0, tip=3 * GWEI))
    add(pool, chain, dynamic(1, 1, tip=4 * GWEI))
    with pytest.raises(tp.Underpriced):
        add(pool, chain, dynamic(2, 0, tip=1 * GWEI))  # not above the cheapest
    better = add(pool, chain, dynamic(2, 0, tip=2 * GWEI))
    assert pool.get(low.hash) is None and pool.get(better.hash) is better and len(pool) == 3
    # Only the sender's own earlier nonces are left to evict: nothing can go.
    full = make_pool(max_count=2)
    add(full, chain, dynamic(0, 0, tip=1 * GWEI))
    add(full, chain, dynamic(0, 1, tip=1 * GWEI))
    with pytest.raises(tp.PoolFull):
        add(full, chain, dynamic(0, 2, tip=50 * GWEI))


def test_eviction_takes_a_senders_last_nonce_first(chain: ChainBuilder) -> None:
    pool = make_pool(max_count=2)
    a0 = add(pool, chain, dynamic(0, 0, tip=1 * GWEI))
    a1 = add(pool, chain, dynamic(0, 1, tip=1 * GWEI))
    add(pool, chain, dynamic(1, 0, tip=5 * GWEI))
    assert pool.get(a0.hash) is a0 and pool.get(a1.hash) is None


def test_byte_limit(chain: ChainBuilder) -> None:
    one = len(dynamic(0, 0).encode())
    pool = make_pool(max_bytes=2 * one + 10)
    add(pool, chain, dynamic(0, 0, tip=1 * GWEI))
    add(pool, chain, dynamic(1, 0, tip=2 * GWEI))
    add(pool, chain, dynamic(2, 0, tip=3 * GWEI))
    assert len(pool) == 2 and pool.size <= 2 * one + 10


def test_new_head_drops_included_and_unaffordable(chain: ChainBuilder) -> None:
    pool = make_pool()
    included = dynamic(0, 0)
    add(pool, chain, included)
    waiting = add(pool, chain, dynamic(0, 1))
    # Account 1 pools a transaction it can pay now; its block spends nearly all its balance.
    costly = add(pool, chain, dynamic(1, 1, value=DEV_BALANCE // 2))
    spend = dynamic(1, 0, value=DEV_BALANCE - 10**18)
    chain.build([included, spend])
    dropped = pool.on_new_head(head_view(chain.blockchain))
    assert {p.hash for p in dropped} == {included.hash, costly.hash}
    assert list(pool.by_hash) == [waiting.hash]
    with pytest.raises(tp.NonceTooLow):
        add(pool, chain, dynamic(0, 0, tip=50 * GWEI))
