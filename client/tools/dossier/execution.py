"""Executing a block with balrex while watching which keys each transaction touches.

The hook is deliberately thin and sits outside the chain core: a subclass of
:class:`client.account_db.StoreAccountDB` that, when recording starts, gives
the block's :class:`bal.recorder.BalRecorder` touch and read sets which also
note each entry in the open ``blockAccessIndex`` unit, and closes that unit
whenever the database closes one (``finish_index``). The recorder is fed
exactly as in a normal import, so the executed BAL is unchanged. A VM class
derived from the block's own uses that database and records the BAL.

Per transaction (unit ``i + 1``) this gives every address the transaction
touched (balance, nonce, code, existence) and every slot it read or wrote; the
executed BAL gives the keys whose value it changed. Only forks that close a
unit per transaction (Amsterdam on) can be observed this way.

The block is executed here only to be observed, on the parent state, without
storing anything; importing it is the caller's business (``pipeline.import_block_sync``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import ValidationError

from bal.recorder import BalRecorder
from bal.types import BlockAccessList
from client.account_db import StoreAccountDB
from client.blockchain import Blockchain
from pipeline.state_source import StateSource
from pipeline.verdicts import BlockRejected, Rule


class _UnitSet(set[object]):
    """A recorder set that also adds each entry to the open unit's set."""

    __slots__ = ("unit",)

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self.unit: set[Any] = set()

    def add(self, item: Any) -> None:
        self.unit.add(item)
        super().add(item)


@dataclass(frozen=True)
class UnitAccesses:
    """What one ``blockAccessIndex`` unit touched: addresses, and (address, slot) reads and writes."""

    touched: frozenset[bytes]
    storage: frozenset[tuple[bytes, int]]


class ObservingAccountDB(StoreAccountDB):
    """The account database, also splitting the recorder's touches and reads by unit."""

    def start_recording(self, recorder: BalRecorder) -> None:
        recorder.touched = _UnitSet(recorder.touched)
        recorder.reads = _UnitSet(recorder.reads)
        self.observed_units: dict[int, UnitAccesses] = {}
        super().start_recording(recorder)

    def finish_index(self, index: int | None = None) -> None:
        super().finish_index(index)
        recorder = self.recorder
        assert recorder is not None  # finish_index raised otherwise
        touched, reads = recorder.touched, recorder.reads
        assert isinstance(touched, _UnitSet) and isinstance(reads, _UnitSet)
        self.observed_units[recorder.last_index] = UnitAccesses(
            frozenset(touched.unit), frozenset(reads.unit)
        )
        touched.unit, reads.unit = set(), set()


def observing_vm(vm_class: type) -> type:
    """``vm_class`` running on :class:`ObservingAccountDB` (its state class otherwise unchanged)."""
    state_class = vm_class._state_class.configure(account_db_class=ObservingAccountDB)  # type: ignore[attr-defined]
    return vm_class.configure(_state_class=state_class)  # type: ignore[attr-defined,no-any-return]


class NotObservable(Exception):
    """A block whose fork records no per-transaction units (before Amsterdam)."""


@dataclass(frozen=True)
class ObservedBlock:
    """One executed block: its transactions, their gas, their units and the BAL execution produced."""

    number: int
    coinbase: bytes
    tx_hashes: tuple[bytes, ...]
    gas_used: tuple[int, ...]
    #: unit i + 1 belongs to transaction i; 0 and n + 1 are the system calls before and after
    units: dict[int, UnitAccesses]
    block_access_list: BlockAccessList


def observe_block(blockchain: Blockchain, block_rlp: bytes) -> ObservedBlock:
    """Execute ``block_rlp`` on its stored parent and return what each transaction accessed.

    Raises :class:`BlockRejected` for an invalid block and :class:`NotObservable`
    for a fork that records no BAL.
    """
    prepared = blockchain.prepare(block_rlp, None)
    if not getattr(prepared.vm_class, "records_block_access_list", False):
        raise NotObservable(f"block {prepared.encoded.number}: no per-transaction units before Amsterdam")
    block = prepared.block
    source = StateSource(
        blockchain.store, prepared.parent.state_root, parent_has_flat_state=prepared.parent_has_flat_state
    )
    vm = blockchain.block_vm(observing_vm(prepared.vm_class), block.header, source)
    try:
        execution = vm.execute_block(block, with_deltas=False)
    except ValidationError as exc:
        raise BlockRejected(Rule.INVALID_TRANSACTION_OR_BLOCK, str(exc)) from None
    db: ObservingAccountDB = vm.state._account_db
    cumulative = [receipt.gas_used for receipt in execution.receipts]
    assert execution.block_access_list is not None  # the fork records it
    return ObservedBlock(
        number=block.header.block_number,
        coinbase=block.header.coinbase,
        tx_hashes=tuple(tx.hash for tx in block.transactions),
        gas_used=tuple(after - before for before, after in zip([0] + cumulative, cumulative, strict=False)),
        units=dict(db.observed_units),
        block_access_list=execution.block_access_list,
    )
