"""Hot contracts and hot storage slots over a block range, and how concentrated contention is.

A contract's figures gather every key of its address (account-level and its
slots). Conflict contribution counts (conflicting pair, key) incidences: a
pair conflicting on two slots of one contract adds 2 to that contract and 1
to each slot. Rankings: contribution, then touching transactions (both
descending), then the key.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .analysis import BlockGraph, bits
from .model import Key

TOP = 10


@dataclass
class _Tally:
    touching_txs: int = 0
    gas: int = 0
    slots: set[str] = field(default_factory=set)
    contribution: int = 0

    def add(self, touchers: int, gas: int) -> None:
        """Count the transactions in ``touchers`` and their gas (each block is added once)."""
        self.touching_txs += touchers.bit_count()
        self.gas += gas


class HotState:
    """Accumulates per-contract and per-slot figures block by block."""

    def __init__(self) -> None:
        self.contracts: dict[str, _Tally] = defaultdict(_Tally)
        self.slots: dict[Key, _Tally] = defaultdict(_Tally)
        #: conflict contribution of every key (account-level keys included), for concentration
        self.key_contributions: dict[Key, int] = defaultdict(int)

    def add_block(self, graph: BlockGraph) -> None:
        contract_touchers: dict[str, int] = defaultdict(int)
        for key, contention in graph.keys.items():
            address, slot = key
            self.key_contributions[key] += contention.conflict_contribution
            contract = self.contracts[address]
            contract.contribution += contention.conflict_contribution
            contract_touchers[address] |= contention.touchers
            if slot is not None:
                contract.slots.add(slot)
                tally = self.slots[key]
                tally.add(contention.touchers, contention.gas)
                tally.contribution += contention.conflict_contribution
        transactions = graph.block.transactions
        for address, touchers in contract_touchers.items():
            self.contracts[address].add(touchers, sum(transactions[p].gas_used or 0 for p in bits(touchers)))

    def top_contracts(self, with_gas: bool, limit: int = TOP) -> list[dict[str, Any]]:
        ranked = heapq.nsmallest(
            limit,
            self.contracts.items(),
            key=lambda item: (-item[1].contribution, -item[1].touching_txs, item[0]),
        )
        return [
            {
                "address": address,
                "touching_txs": tally.touching_txs,
                "unique_slots": len(tally.slots),
                "gas_of_touching_txs": tally.gas if with_gas else None,
                "conflict_contribution": tally.contribution,
            }
            for address, tally in ranked
        ]

    def top_slots(self, with_gas: bool, limit: int = TOP) -> list[dict[str, Any]]:
        # keys as (address, slot) tuples sort like their "address:slot" strings: addresses have one length
        ranked = heapq.nsmallest(
            limit,
            self.slots.items(),
            key=lambda item: (-item[1].contribution, -item[1].touching_txs, item[0]),
        )
        return [
            {
                "key": f"{address}:{slot}",
                "address": address,
                "slot": slot,
                "touching_txs": tally.touching_txs,
                "gas_of_touching_txs": tally.gas if with_gas else None,
                "conflict_contribution": tally.contribution,
            }
            for (address, slot), tally in ranked
        ]

    def concentration(self) -> dict[str, float]:
        """Share of all conflict contributions caused by the top 1, 5 and 10 keys, in percent."""
        counts = sorted(self.key_contributions.values(), reverse=True)
        total = sum(counts)
        return {
            f"top_{n}_conflict_percent": float(sum(counts[:n])) / float(total) * 100.0 if total else 0.0
            for n in (1, 5, 10)
        }

    def slot_and_account_contributions(self) -> tuple[int, int]:
        """Conflict contributions of storage keys and of account-level keys."""
        storage = sum(count for (_, slot), count in self.key_contributions.items() if slot is not None)
        return storage, sum(self.key_contributions.values()) - storage
