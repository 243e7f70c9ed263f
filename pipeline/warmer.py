"""The warmer: load the parent state the BAL names into the executor's cache, ahead of use.

It works in the order execution will need the keys: each account and slot
goes at the first ``blockAccessIndex`` that changes it (slots only read, and
read-only accounts, ride with their account or go last). The keys of the
first :data:`HEAD_START_INDEX` indices are loaded before any task starts
(about a millisecond, in the pipeline's thread); the rest in a thread beside
the executor's. Both threads share the interpreter lock, so the warmer only
wins time for the executor by being far cheaper per key (one flat-state read)
and by staying ahead of it: once the executor's thread runs, the lock can stay
with it for a whole switch interval (5 ms, about ten transactions) before the
warmer's thread runs again, which the head start covers; after that the warmer
gains roughly a dozen transactions for every one executed. The hit rate is
measured (``StateSource.stats``), not assumed.

Keys first changed by a later part's transactions are left out: the
later-part worker reads its own state, and the node's process takes the
part's end state without reading those accounts (``StoreAccountDB.apply_deltas``
reads an account only when it is used). On the bench chain the warmer's thread
then took 0.29-0.36 s of CPU a run instead of 0.51-0.54 s, and the executor
read about 20 keys a block itself (97% hits), for the transactions it takes
from the end of the part.

The warmer never walks the state trie: execution reads the flat state. The
walk of each touched account's trie path happens once, in the merkleizer's
worker, the first thing it does, so the nodes land in the process that
updates them (see ``merkle.optimistic``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from operator import itemgetter

from bal.types import AccountChanges, BlockAccessList

from .state_source import StateSource

# Keys with no index of their own (read-only accounts and slots) sort after every index.
_UNINDEXED = 1 << 32


def _first_index(account: AccountChanges) -> int:
    """The account's first ``blockAccessIndex`` (each list of changes is in index order: prepare checks)."""
    first = _UNINDEXED
    for changes in (account.balance_changes, account.nonce_changes, account.code_changes):
        if changes and changes[0].block_access_index < first:
            first = changes[0].block_access_index
    for slot_changes in account.storage_changes:
        if slot_changes.changes and slot_changes.changes[0].block_access_index < first:
            first = slot_changes.changes[0].block_access_index
    return first


def warm_order(bal: BlockAccessList) -> list[tuple[int, bytes, int | None]]:
    """``(index, address, slot or None)`` for every BAL-named key, in the order to warm them."""
    # (index, account before its slots, address, slot): an account brings its code along.
    keys: list[tuple[int, bool, bytes, int | None]] = []
    append = keys.append
    for account in bal.accounts:
        first = _first_index(account)
        address = account.address
        append((first, False, address, None))
        for sc in account.storage_changes:
            append((sc.changes[0].block_access_index if sc.changes else first, True, address, sc.slot))
        for slot in account.storage_reads:
            append((first, True, address, slot))
    # Sorted by (index, account first) alone, as a stable sort: within one index, BAL order.
    keys.sort(key=itemgetter(0, 1))
    return [(index, address, slot) for index, _, address, slot in keys]


# The keys first needed at indices up to this one are warm before the executor starts.
# With 1 (the keys of the first transaction), the executor's first switch interval
# outran the warmer: about 1% of its reads missed, at indices 2 to 13 (bench chain).
HEAD_START_INDEX = 16

Key = tuple[bytes, int | None]  # (address, slot), or (address, None) for the account and its code


def warm_plan(bal: BlockAccessList, skipped: range = range(0)) -> tuple[list[Key], list[Key]]:
    """The keys to load before the executor starts, and the rest, each in warming order.

    ``skipped``: the blockAccessIndices of a later part's transactions. The later-part worker
    reads its own state, so keys first changed there are left out; the executor reads them
    if it takes some of those transactions (``LaterPart.steal``).
    """
    head: list[Key] = []
    rest: list[Key] = []
    for index, address, slot in warm_order(bal):
        if index in skipped:
            continue
        (head if index <= HEAD_START_INDEX else rest).append((address, slot))
    return head, rest


def warm(source: StateSource, keys: Iterable[Key], stop: threading.Event | None = None) -> None:
    """Prefetch ``keys`` (and each account's code) until done or ``stop`` is set."""
    for address, slot in keys:
        if stop is not None and stop.is_set():
            return
        if slot is None:
            record = source.warm_account(address)
            if record is not None:
                source.warm_code(record.code_hash)
        else:
            source.warm_storage(address, slot)
