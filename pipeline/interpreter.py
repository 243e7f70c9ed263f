"""How a process that imports blocks sets up its interpreter: the node, import-bench, the workers.

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
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def hand_over_the_lock_often() -> None:
    """Set this process's switch interval to :data:`SWITCH_INTERVAL_S` (see the module docstring)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


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
