"""The warmer's order of a BAL's keys: each key at the first index that changes it, accounts before slots.

``pipeline.warmer.warm_order`` reads each list's first index (prepare has
checked that every list of changes is in index order); the reference here
takes the minimum of every index instead, and sorts with the same stable key.
"""

from __future__ import annotations

from bal_strategies import FUZZ, valid_bals
from hypothesis import given

from bal import BlockAccessList
from pipeline.warmer import HEAD_START_INDEX, warm_order, warm_plan

UNINDEXED = 1 << 32


def _reference(bal: BlockAccessList) -> list[tuple[int, bytes, int | None]]:
    keys: list[tuple[int, bytes, int | None]] = []
    for account in bal.accounts:
        indices = [change.block_access_index for change in account.balance_changes]
        indices += [change.block_access_index for change in account.nonce_changes]
        indices += [change.block_access_index for change in account.code_changes]
        indices += [change.block_access_index for sc in account.storage_changes for change in sc.changes]
        first = min(indices, default=UNINDEXED)
        keys.append((first, account.address, None))
        for sc in account.storage_changes:
            keys.append((min(c.block_access_index for c in sc.changes), account.address, sc.slot))
        keys += [(first, account.address, slot) for slot in account.storage_reads]
    keys.sort(key=lambda key: (key[0], key[2] is not None))
    return keys


@FUZZ
@given(valid_bals(max_accounts=8))
def test_warm_order_is_the_reference_order(bal: BlockAccessList) -> None:
    assert warm_order(bal) == _reference(bal)


@FUZZ
@given(valid_bals(max_accounts=8))
def test_the_head_start_is_the_keys_up_to_its_index(bal: BlockAccessList) -> None:
    head, rest = warm_plan(bal)
    ordered = _reference(bal)
    assert head == [(address, slot) for index, address, slot in ordered if index <= HEAD_START_INDEX]
    assert rest == [(address, slot) for index, address, slot in ordered if index > HEAD_START_INDEX]


@FUZZ
@given(valid_bals(max_accounts=8))
def test_a_later_parts_keys_are_left_to_its_worker(bal: BlockAccessList) -> None:
    later_part = range(3, 6)  # its transactions' blockAccessIndices
    head, rest = warm_plan(bal, later_part)
    kept = [(index, address, slot) for index, address, slot in _reference(bal) if index not in later_part]
    assert head + rest == [(address, slot) for _, address, slot in kept]
    assert head == [(address, slot) for index, address, slot in kept if index <= HEAD_START_INDEX]
