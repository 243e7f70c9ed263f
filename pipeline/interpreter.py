"""How a process that imports blocks sets up its interpreter (:func:`set_up_for_blocks`).

The node, import-bench and the worker processes all call it.

**The switch interval.** The executor (and, on the BAL path, the warmer) run
in threads beside the event loop, and one thread at a time holds the
interpreter lock. A thread that wants it waits until the holder has run for
the switch interval, 5 ms by default. With 1 ms the event loop answers a
request sooner, reads a worker's reply (a later part, a merkle result) soon
after it arrives, and the executor's thread gets the lock back soon after
that reply is read. In alternated import-bench runs of the BAL path the
1 ms interval took 8.82-9.27 s against 9.22-9.41 s at 5 ms.

**The collector.** A full (oldest-generation) collection walks every tracked
object. After start-up a process holds many objects it keeps until exit
(imported modules, the genesis state, a benchmark's loaded chain and its
decoded BALs), and walking them made single collections take 60-90 ms,
landing inside whichever block was executing (seen as exec outliers in
import-bench). ``gc.freeze`` moves everything alive at that moment out of the
collector's view; objects created later are collected as before (and acyclic
ones, such as trie nodes dropped from a cache, are still freed when their
last reference goes).

**Young collections.** Python collects its youngest generation every 700
allocations net of frees. Executing a block allocates millions of short-lived
objects (stack items, messages, RLP fragments) and keeps many of them for the
block's length (the state's caches, the recorder's units), so the node's
process ran about 1,500 young collections over the 50-block bench chain, each
walking what was still alive and promoting it. With a threshold of 10,000 most
of those objects are gone before a collection looks at them. Six alternated
import-bench pairs of the BAL path (three processes on two cores): 9.32-10.46 s
at 10,000 against 9.73-11.18 s at 700, faster in every pair; 3,000 and 20,000
were no better than 700 in three pairs each, 50,000 was slower. The streaming
path showed no difference (medians 16.33 and 16.26 s over six pairs), so
the setting is the node's for both paths.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001
YOUNG_COLLECTION_THRESHOLD = 10_000


def set_up_for_blocks() -> None:
    """Set this process's switch interval and young-collection threshold (see the module docstring).

    The node, import-bench and each worker process call it once, first thing. The
    older generations' thresholds (counted in younger collections) stay Python's.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


def freeze_live_objects() -> None:
    """Collect, then freeze what is left: call when what is alive is what will stay.

    The node and import-bench call it once, after start-up. A worker process calls it after
    start-up and after every request it answers: what survives a request is
    what the worker keeps across blocks (the merkleizer's decoded trie nodes,
    up to hundreds of thousands of them, which full collections otherwise walked
    for 15-65 ms in the middle of a block).
    """
    gc.collect()
    gc.freeze()
