"""One block's conflict structure: conflict pairs, the dependency graph, waves and critical paths.

Transactions ``i < j`` of a block conflict when they share a key that at least
one of them writes (read/read is no conflict); the dependency graph has the
edge ``i -> j`` for every conflicting pair, so canonical order is kept. Sets
of transactions are Python ints used as bit sets (bit ``p`` = the block's
``p``-th transaction), which keeps a 436-transaction block with tens of
thousands of accesses well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import BlockAccesses, Key


def bits(mask: int) -> list[int]:
    """The positions set in ``mask``, ascending."""
    positions = []
    while mask:
        low = mask & -mask
        positions.append(low.bit_length() - 1)
        mask ^= low
    return positions


@dataclass(frozen=True)
class KeyContention:
    """One key inside one block: who touched it and how many conflicting pairs it causes."""

    touchers: int
    #: conflicting (pair, key) incidences on this key: W(W-1)/2 + W*R for W writers and R pure readers
    conflict_contribution: int


@dataclass(frozen=True)
class BlockGraph:
    """A block's dependency graph and what is derived from it; lists are indexed by position."""

    block: BlockAccesses
    durations: tuple[int, ...]
    predecessors: tuple[tuple[int, ...], ...]
    successors: tuple[tuple[int, ...], ...]
    conflict_degrees: tuple[int, ...]
    overlapping: tuple[bool, ...]
    waves: tuple[int, ...]
    #: duration of the longest chain ending with each transaction (its earliest finish)
    earliest_finish: tuple[int, ...]
    #: duration of the longest chain starting with each transaction (own duration included)
    bottom_level: tuple[int, ...]
    keys: dict[Key, KeyContention]
    conflict_pair_count: int
    #: sum over conflicting pairs of (g_i + g_j), and over all pairs; None without gas
    gas_weighted_conflict: tuple[int, int] | None

    @property
    def tx_count(self) -> int:
        return len(self.block.transactions)

    @property
    def possible_pair_count(self) -> int:
        return self.tx_count * (self.tx_count - 1) // 2

    @property
    def wave_count(self) -> int:
        """Number of longest-path levels, which is the critical path in transactions."""
        return max(self.waves) + 1 if self.waves else 0

    @property
    def wave_widths(self) -> list[int]:
        widths = [0] * self.wave_count
        for wave in self.waves:
            widths[wave] += 1
        return widths

    @property
    def critical_path(self) -> int:
        """The longest chain by duration (by gas when gas is known)."""
        return max(self.earliest_finish, default=0)


def analyze_block(block: BlockAccesses, durations: tuple[int, ...], with_gas: bool) -> BlockGraph:
    """The graph of ``block``; ``durations`` are per position (gas, or 1 each without gas)."""
    transactions = block.transactions
    count = len(transactions)
    touchers: dict[Key, int] = {}
    writers: dict[Key, int] = {}
    for position, tx in enumerate(transactions):
        bit = 1 << position
        for key in tx.keys:
            touchers[key] = touchers.get(key, 0) | bit
        for key in tx.writes:
            writers[key] = writers.get(key, 0) | bit

    conflict_masks = []
    overlapping = []
    for position, tx in enumerate(transactions):
        own = ~(1 << position)
        conflicts = 0
        for key in tx.writes:
            conflicts |= touchers[key]
        for key in tx.reads - tx.writes:
            conflicts |= writers.get(key, 0)
        shared = 0
        for key in tx.keys:
            shared |= touchers[key]
        conflict_masks.append(conflicts & own)
        overlapping.append(bool(shared & own))

    predecessors = tuple(tuple(bits(mask & ((1 << p) - 1))) for p, mask in enumerate(conflict_masks))
    successors = tuple(tuple(bits(mask >> (p + 1) << (p + 1))) for p, mask in enumerate(conflict_masks))
    degrees = tuple(mask.bit_count() for mask in conflict_masks)

    waves: list[int] = []
    earliest_finish: list[int] = []
    for position in range(count):
        before = predecessors[position]
        waves.append(1 + max(waves[q] for q in before) if before else 0)
        earliest_finish.append(durations[position] + max((earliest_finish[q] for q in before), default=0))
    bottom_level = [0] * count
    for position in reversed(range(count)):
        after = successors[position]
        bottom_level[position] = durations[position] + max((bottom_level[s] for s in after), default=0)

    keys = {}
    for key, mask in touchers.items():
        writer_count = writers.get(key, 0).bit_count()
        reader_count = mask.bit_count() - writer_count
        keys[key] = KeyContention(mask, writer_count * (writer_count - 1) // 2 + writer_count * reader_count)

    gas_weighted = None
    if with_gas:
        gas = [tx.gas_used or 0 for tx in transactions]
        conflicting = sum(gas[p] * degrees[p] for p in range(count))
        gas_weighted = (conflicting, (count - 1) * sum(gas) if count else 0)

    return BlockGraph(
        block=block,
        durations=durations,
        predecessors=predecessors,
        successors=successors,
        conflict_degrees=degrees,
        overlapping=tuple(overlapping),
        waves=tuple(waves),
        earliest_finish=tuple(earliest_finish),
        bottom_level=tuple(bottom_level),
        keys=keys,
        conflict_pair_count=sum(len(before) for before in predecessors),
        gas_weighted_conflict=gas_weighted,
    )
