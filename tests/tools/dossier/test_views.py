"""The execution view and the BAL view of one hand-made observed block, and their difference."""

from __future__ import annotations

from bal.types import AccountChanges, BalanceChange, BlockAccessList, NonceChange, SlotChanges, StorageChange
from client.tools.dossier.analysis import analyze_block
from client.tools.dossier.execution import ObservedBlock, UnitAccesses
from client.tools.dossier.views import account_key, block_views, compare_views, storage_key

COINBASE, ALICE, BOB, TOKEN, SYSTEM = (bytes([n]) * 20 for n in (0xC0, 0xA1, 0xB0, 0x70, 0x55))


def observed() -> ObservedBlock:
    """tx 0: Alice writes TOKEN slot 1; tx 1: Bob reads TOKEN slot 1 and pays; both pay the coinbase.

    Unit 0 and unit 3 are system calls (SYSTEM slot 9 is read there only).
    """
    bal = BlockAccessList(
        (
            AccountChanges(ALICE, nonce_changes=(NonceChange(1, 1),)),
            AccountChanges(BOB, balance_changes=(BalanceChange(2, 5),)),
            AccountChanges(COINBASE, balance_changes=(BalanceChange(1, 10), BalanceChange(2, 20))),
            AccountChanges(TOKEN, storage_changes=(SlotChanges(1, (StorageChange(1, 7),)),)),
            AccountChanges(SYSTEM, storage_reads=(9,)),
        )
    )
    units = {
        0: UnitAccesses(frozenset({SYSTEM}), frozenset({(SYSTEM, 9)})),
        1: UnitAccesses(frozenset({ALICE, TOKEN, COINBASE}), frozenset({(TOKEN, 1)})),
        2: UnitAccesses(frozenset({BOB, TOKEN, COINBASE}), frozenset({(TOKEN, 1)})),
        3: UnitAccesses(frozenset({SYSTEM}), frozenset({(SYSTEM, 9)})),
    }
    return ObservedBlock(7, COINBASE, (b"\x01" * 32, b"\x02" * 32), (30_000, 50_000), units, bal)


def test_views_of_each_transaction() -> None:
    views = block_views(observed())
    first, second = views.execution.transactions
    assert first.writes == {account_key(ALICE), storage_key(TOKEN, 1)}
    assert first.reads == {account_key(ALICE), account_key(TOKEN), storage_key(TOKEN, 1)}  # no coinbase
    assert second.writes == {account_key(BOB)}
    assert second.reads == {account_key(BOB), account_key(TOKEN), storage_key(TOKEN, 1)}
    assert [tx.gas_used for tx in views.execution.transactions] == [30_000, 50_000]
    assert [tx.writes for tx in views.bal.transactions] == [first.writes, second.writes]
    assert all(not tx.reads for tx in views.bal.transactions)
    assert views.bal_unindexed_reads == 2  # SYSTEM slot 9, and SYSTEM listed without changes


def test_keeping_the_coinbase_makes_every_pair_conflict() -> None:
    views = block_views(observed(), keep_coinbase=True)
    graph = analyze_block(views.bal, (1, 1), with_gas=True)
    assert account_key(COINBASE) in views.bal.transactions[1].writes
    assert graph.conflict_pair_count == 1


def test_difference_between_views() -> None:
    views = block_views(observed())
    execution = (analyze_block(views.execution, (1, 1), with_gas=True),)
    bal = (analyze_block(views.bal, (1, 1), with_gas=True),)
    # tx 1 reads the slot tx 0 wrote: execution sees the pair, the BAL (writes only) does not
    assert (execution[0].conflict_pair_count, bal[0].conflict_pair_count) == (1, 0)
    difference = compare_views(execution, bal, views.bal_unindexed_reads)
    assert difference["conflict_pairs_execution_only"] == 1
    assert difference["conflict_pairs_bal_only"] == 0
    # tx 0: TOKEN's account key; tx 1: TOKEN's account key and slot 1 (read, not written)
    assert difference["account_read_keys_execution_only"] == 2
    assert difference["storage_read_keys_execution_only"] == 1
    assert difference["storage_write_keys_execution_only"] == difference["account_write_keys_bal_only"] == 0
    assert {(row["tx_index"], row["key"]) for row in difference["examples"]} == {
        (0, "0x" + TOKEN.hex()),
        (1, "0x" + TOKEN.hex()),
        (1, f"0x{TOKEN.hex()}:0x{1:064x}"),
    }
