"""Keep Python's cyclic garbage collector off the objects that live as long as the process.

A full (oldest-generation) collection walks every tracked object. After
start-up a process holds many objects it keeps until exit (imported modules,
the genesis state, a benchmark's loaded chain and its decoded BALs), and
walking them made single collections take 60-90 ms, landing inside whichever
block was executing (seen as exec outliers in import-bench). ``gc.freeze``
moves everything alive at that moment out of the collector's view; objects
created later are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Call once start-up is done and before blocks are imported."""
    gc.collect()
    gc.freeze()
