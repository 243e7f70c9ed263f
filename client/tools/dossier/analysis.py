"""One block's conflict structure: conflict pairs, the dependency graph, waves and critical paths.

Transactions ``i < j`` of a block conflict when they share a key that at least
one of them writes (read/read is no conflict); the dependency graph has the
edge ``i -> j`` for every conflicting pair, so canonical order is kept.

Counts (pairs, degrees) come from the full graph; waves, critical paths and
the schedules walk its transitive reduction, which gives the same answers
(a transaction whose direct predecessors have finished has all its ancestors
finished) with far fewer edges: a block where nearly every pair conflicts is
nearly a chain. Sets of transactions are Python ints used as bit sets (bit
``p`` = the block's ``p``-th transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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
    #: gas of the touching transactions (0 without gas)
    gas: int
    #: conflicting (pair, key) incidences on this key: W(W-1)/2 + W*R for W writers and R pure readers
    conflict_contribution: int


@dataclass(frozen=True)
class BlockGraph:
    """A block's dependency graph and what is derived from it; lists are indexed by position."""

    block: BlockAccesses
    durations: tuple[int, ...]
    #: per position, every other position it conflicts with (earlier and later), as a bit set
    conflict_masks: tuple[int, ...]
    #: direct predecessors and successors: the transitive reduction of the dependency graph
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


class Conflicts(Protocol):
    """A block's transactions and whom each conflicts with: what comparing two views of it needs."""

    @property
    def block(self) -> BlockAccesses: ...

    #: per position, every other position it conflicts with, as a bit set
    @property
    def conflict_masks(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class BlockConflicts:
    """:class:`Conflicts` without the rest of a :class:`BlockGraph` (the masks crossed a pipe)."""

    block: BlockAccesses
    conflict_masks: tuple[int, ...]


def _reduce(earlier_masks: list[int]) -> list[tuple[int, ...]]:
    """Direct predecessors per position, given each position's earlier conflicting positions.

    The latest earlier conflict is always direct; everything it (transitively)
    depends on is covered; the latest uncovered one is direct next, and so on.
    """
    ancestors: list[int] = []
    direct: list[tuple[int, ...]] = []
    for mask in earlier_masks:
        covered = 0
        chosen = []
        remaining = mask
        while remaining:
            latest = remaining.bit_length() - 1
            chosen.append(latest)
            covered |= ancestors[latest] | (1 << latest)
            remaining = mask & ~covered
        ancestors.append(covered)
        direct.append(tuple(reversed(chosen)))
    return direct


def analyze_block(block: BlockAccesses, durations: tuple[int, ...], with_gas: bool) -> BlockGraph:
    """The graph of ``block``; ``durations`` are per position (gas, or 1 each without gas)."""
    transactions = block.transactions
    count = len(transactions)
    touchers: dict[Key, int] = {}
    writers: dict[Key, int] = {}
    key_gas: dict[Key, int] = {}
    for position, tx in enumerate(transactions):
        bit = 1 << position
        gas = tx.gas_used or 0
        for key in tx.keys:
            touchers[key] = touchers.get(key, 0) | bit
            key_gas[key] = key_gas.get(key, 0) + gas
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

    earlier = [mask & ((1 << p) - 1) for p, mask in enumerate(conflict_masks)]
    predecessors = _reduce(earlier)
    following: list[list[int]] = [[] for _ in range(count)]
    for position, before in enumerate(predecessors):
        for q in before:
            following[q].append(position)
    successors = tuple(tuple(after) for after in following)
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
        contribution = writer_count * (writer_count - 1) // 2 + writer_count * reader_count
        keys[key] = KeyContention(mask, key_gas[key], contribution)

    gas_weighted = None
    if with_gas:
        gas = [tx.gas_used or 0 for tx in transactions]
        conflicting = sum(gas[p] * degrees[p] for p in range(count))
        gas_weighted = (conflicting, (count - 1) * sum(gas) if count else 0)

    return BlockGraph(
        block=block,
        durations=durations,
        conflict_masks=tuple(conflict_masks),
        predecessors=tuple(predecessors),
        successors=successors,
        conflict_degrees=degrees,
        overlapping=tuple(overlapping),
        waves=tuple(waves),
        earliest_finish=tuple(earliest_finish),
        bottom_level=tuple(bottom_level),
        keys=keys,
        conflict_pair_count=sum(mask.bit_count() for mask in earlier),
        gas_weighted_conflict=gas_weighted,
    )
