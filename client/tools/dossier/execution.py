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

:class:`ObservingBlockchain` puts this database under the pipeline's own
execution, so a block is executed once: observed and imported together. On
the BAL path a block's later transactions run in the later-part worker
(EIP-7928 parallel execution, both cores busy): :class:`ObservingLaterPartWorker`
runs them on the same database and sends their units back beside the part's
result (:class:`ObservedPart`), so the split block is observed whole.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI

from bal.deltas import AccountDelta
from bal.recorder import BalRecorder
from bal.types import BlockAccessList
from client.account_db import StoreAccountDB
from client.blockchain import Blockchain
from client.chain_config import ChainConfig
from client.forks.amsterdam.later_part import PartResult
from client.later_part_worker import LaterPartWorker
from pipeline.chain import BlockExecution, LaterPart, PreparedBlock
from pipeline.later_part import TransactionClaims
from pipeline.state_source import StateSource
from storage import Store


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


@functools.cache
def observing_vm(vm_class: type) -> type:
    """``vm_class`` running on :class:`ObservingAccountDB` (its state class otherwise unchanged).

    Run as a later part (:meth:`execute_later_part`, in the worker), it also notes the part's
    senders (recovered by its execution: the oracle needs them) and the seconds the part took.
    """
    state_class = vm_class._state_class.configure(account_db_class=ObservingAccountDB)  # type: ignore[attr-defined]
    base: Any = vm_class.configure(_state_class=state_class)  # type: ignore[attr-defined]

    class ObservingVM(base):  # type: ignore[misc,valid-type]
        later_part_seconds = 0.0
        later_part_senders: tuple[bytes, ...] = ()

        def execute_later_part(
            self, block: Any, first: int, transactions: Sequence[Any], start: Sequence[Any], may_run: Any
        ) -> Any:
            started = time.perf_counter()
            result = super().execute_later_part(block, first, transactions, start, may_run)
            self.later_part_seconds = time.perf_counter() - started
            self.later_part_senders = tuple(bytes(transaction.sender) for transaction in transactions)
            return result

    ObservingVM.__name__ = ObservingVM.__qualname__ = f"Observing{vm_class.__name__}"
    return ObservingVM


@dataclass(frozen=True)
class ObservedPart(PartResult):
    """A later part's result, with what each of its units touched and its seconds in the worker."""

    units: dict[int, UnitAccesses]
    #: the part's senders, as its execution recovered them
    senders: tuple[bytes, ...]
    #: the worker's seconds running the part (from the claimed state to its end state)
    seconds: float


@dataclass(frozen=True)
class SplitRun:
    """How a block executed in two parts spent its time (the executor's span is the pipeline's ``exec``)."""

    later_txs: int
    #: seconds the executor waited for the later part after finishing its own transactions
    wait_seconds: float
    #: seconds the worker took for the later part (:attr:`ObservedPart.seconds`)
    part_seconds: float


class _TimedPart:
    """A :class:`~pipeline.chain.LaterPart` that notes how long the executor waits for its result."""

    def __init__(self, part: LaterPart) -> None:
        self.part = part
        self.wait_seconds = 0.0

    @property
    def first(self) -> int:
        return self.part.first

    def steal(self) -> int | None:
        return self.part.steal()

    def claimed_state(self, index: int) -> Sequence[AccountDelta]:
        return self.part.claimed_state(index)

    def result(self) -> object:
        started = time.perf_counter()
        try:
            return self.part.result()
        finally:
            self.wait_seconds += time.perf_counter() - started


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
    #: the signed transactions (py-evm's), for what can be predicted from their envelopes alone
    transactions: tuple[Any, ...] = ()
    #: their senders, as the execution recovered them
    senders: tuple[bytes, ...] = ()
    #: set when the block ran in two parts (its later transactions in the later-part worker)
    split: SplitRun | None = None


def _records_bal(vm_class: type) -> bool:
    return bool(getattr(vm_class, "records_block_access_list", False))


class ObservingBlockchain(Blockchain):
    """The blockchain, executing blocks of BAL-recording forks on :class:`ObservingAccountDB`.

    Importing a block through the pipeline then executes it once, observed, and
    stores it as usual: :meth:`take_observed` gives what that execution
    touched, transaction by transaction. Blocks of earlier forks run unobserved.
    Either path works; a later part must run in :class:`ObservingLaterPartWorker`,
    whose units complete the block's.
    """

    def __init__(self, store: Store, config: ChainConfig) -> None:
        super().__init__(store, config)
        self._vm: Any = None
        self._observed: ObservedBlock | None = None

    def block_vm(self, vm_class: type, header: BlockHeaderAPI, source: StateSource) -> Any:
        if _records_bal(vm_class):
            vm_class = observing_vm(vm_class)
        self._vm = super().block_vm(vm_class, header, source)
        return self._vm

    def execute(
        self,
        prepared: PreparedBlock,
        source: StateSource,
        *,
        with_deltas: bool,
        later: LaterPart | None = None,
        given: BlockAccessList | None = None,
    ) -> BlockExecution:
        self._observed = None
        timed = None if later is None else _TimedPart(later)
        execution = super().execute(prepared, source, with_deltas=with_deltas, later=timed, given=given)
        if _records_bal(prepared.vm_class):
            units = dict(self._vm.state._account_db.observed_units)
            split = None
            later_senders: tuple[bytes, ...] = ()
            if timed is not None:
                part = timed.part.result()  # came back already: the execution used it
                if not isinstance(part, ObservedPart):
                    raise TypeError(f"a later part came back unobserved ({type(part).__name__})")
                units.update(part.units)
                later_senders = part.senders
                split = SplitRun(prepared.transaction_count - timed.first, timed.wait_seconds, part.seconds)
            self._observed = _observed_block(prepared, units, later_senders, execution, split)
        return execution

    def observed_part(self, result: PartResult) -> ObservedPart:
        """``result``, the last later part run on this chain (in the worker), with what it observed."""
        vm = self._vm
        return ObservedPart(
            result.outcomes,
            result.recorder,
            result.deltas,
            dict(vm.state._account_db.observed_units),
            vm.later_part_senders,
            vm.later_part_seconds,
        )

    def take_observed(self) -> ObservedBlock | None:
        """What the last execution touched (None before Amsterdam), handed over once."""
        observed, self._observed = self._observed, None
        return observed


def _observed_block(
    prepared: PreparedBlock,
    units: dict[int, UnitAccesses],
    later_senders: tuple[bytes, ...],
    execution: BlockExecution,
    split: SplitRun | None,
) -> ObservedBlock:
    """The block as observed; ``later_senders`` are the senders of the transactions a worker ran."""
    block = prepared.block
    here = block.transactions[: len(block.transactions) - len(later_senders)]
    cumulative = [receipt.gas_used for receipt in execution.receipts]
    assert execution.block_access_list is not None  # the fork records it
    return ObservedBlock(
        number=block.header.block_number,
        coinbase=block.header.coinbase,
        tx_hashes=prepared.encoded.transaction_hashes,
        gas_used=tuple(after - before for before, after in zip([0] + cumulative, cumulative, strict=False)),
        units=units,
        block_access_list=execution.block_access_list,
        transactions=tuple(block.transactions),
        # recovered by this process's execution already (a cached property)
        senders=tuple(bytes(transaction.sender) for transaction in here) + later_senders,
        split=split,
    )


class ObservingLaterPartWorker(LaterPartWorker):
    """The later-part worker on an :class:`ObservingBlockchain`: its answer carries the part's units."""

    def __init__(self, claims: TransactionClaims) -> None:
        super().__init__(claims)
        self._chain: ObservingBlockchain | None = None

    def chain_for(self, store: Store, config: ChainConfig) -> Blockchain:
        self._chain = ObservingBlockchain(store, config)
        return self._chain

    def handle(self, request: object) -> ObservedPart:
        result = super().handle(request)
        assert self._chain is not None  # handle made it
        return self._chain.observed_part(result)
