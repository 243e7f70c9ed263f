"""Keep Python's cyclic garbage collector off the objects that live as long as the process.

A full (oldest-generation) collection walks every tracked object. After
start-up a process holds many objects it keeps until exit (imported modules,
the genesis state, a benchmark's loaded chain and its decoded BALs), and
walking them made single collections take 60-90 ms, landing inside whichever
block was executing (seen as exec outliers in import-bench). ``gc.freeze``
moves everything alive at that moment out of the collector's view; objects
created later are collected as before (and acyclic ones, such as trie nodes
dropped from a cache, are still freed when their last reference goes).
"""

from __future__ import annotations

import gc


def freeze_live_objects() -> None:
    """Collect, then freeze what is left: call when what is alive is what will stay.

    The node calls it once, after start-up. A worker process calls it after
    start-up and after every request it answers: what survives a request is
    what the worker keeps across blocks (the merkleizer's decoded trie nodes,
    up to hundreds of thousands of them, which full collections otherwise walked
    for 15-65 ms in the middle of a block).
    """
    gc.collect()
    gc.freeze()
