"""The warmer: load the parent state the BAL names into the executor's cache, ahead of use.

It runs in a thread beside the executor's, in the order execution will need
the keys: each account and slot goes at the first ``blockAccessIndex`` that
changes it (slots only read, and read-only accounts, ride with their account
or go last). Both threads share the interpreter lock, so the warmer only wins
time for the executor by being far cheaper per key (one flat-state read) and
by staying ahead of it. Once the executor's thread runs, the lock can stay
with it for a whole switch interval (5 ms, about ten transactions) before the
warmer's thread runs again, so the executor starts only when the keys of the
first :data:`HEAD_START_INDEX` indices are in (``head_start``, about a
millisecond); after that the warmer gains roughly a dozen transactions for
every one executed. The hit rate is measured (``StateSource.stats``), not assumed.

The warmer never walks the state trie: execution reads the flat state. The
walk of each touched account's trie path happens once, in the merkleizer's
worker, the first thing it does, so the nodes land in the process that
updates them (see ``merkle.optimistic``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from bal.types import AccountChanges, BlockAccessList
from client.state_source import StateSource

# Keys with no index of their own (read-only accounts and slots) sort after every index.
_UNINDEXED = 1 << 32


def _first_index(account: AccountChanges) -> int:
    indices = [c.block_access_index for c in account.balance_changes]
    indices += [c.block_access_index for c in account.nonce_changes]
    indices += [c.block_access_index for c in account.code_changes]
    indices += [sc.changes[0].block_access_index for sc in account.storage_changes if sc.changes]
    return min(indices, default=_UNINDEXED)


def warm_order(bal: BlockAccessList) -> list[tuple[int, bytes, int | None]]:
    """``(index, address, slot or None)`` for every BAL-named key, in the order to warm them."""
    keys = []
    for account in bal.accounts:
        first = _first_index(account)
        keys.append((first, account.address, None))
        for sc in account.storage_changes:
            index = sc.changes[0].block_access_index if sc.changes else first
            keys.append((index, account.address, sc.slot))
        keys.extend((first, account.address, slot) for slot in account.storage_reads)
    # Accounts before their slots at the same index: the account brings its code along.
    keys.sort(key=lambda k: (k[0], k[2] is not None))
    return keys


# The executor may start once every key first needed at an index up to this one is warm.
# With 1, the executor's first switch interval outran the warmer: ~1% of reads missed,
# at indices 2 to 13 (bench chain).
HEAD_START_INDEX = 16


def _keys(
    bal: BlockAccessList, stop: threading.Event, head_start: Callable[[], None]
) -> Iterator[tuple[bytes, int | None]]:
    started = False
    for index, address, slot in warm_order(bal):
        if stop.is_set():
            break
        if not started and index > HEAD_START_INDEX:
            head_start()
            started = True
            time.sleep(0)  # hand the interpreter lock over, so the executor starts now
        yield address, slot
    if not started:
        head_start()


def warm(
    source: StateSource, bal: BlockAccessList, stop: threading.Event, head_start: Callable[[], None]
) -> None:
    """Prefetch every key of ``bal`` (and each account's code) until done or ``stop`` is set.

    ``head_start`` is called once, when the keys of indices up to
    :data:`HEAD_START_INDEX` are warm (or when the warmer ends early).
    """
    for address, slot in _keys(bal, stop, head_start):
        if slot is None:
            record = source.warm_account(address)
            if record is not None:
                source.warm_code(record.code_hash)
        else:
            source.warm_storage(address, slot)
