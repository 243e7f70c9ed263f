"""The EIP-7928 side of the account database: what feeds a :class:`bal.recorder.BalRecorder`.

:class:`client.account_db.StoreAccountDB` is the journaled state py-evm's VM
runs on; :class:`BalRecording` is mixed into it and records, over that
state's layers, the block access list the block produces. Recording is off
unless :meth:`BalRecording.start_recording` hands the database a recorder.
Then:

* **touches and reads** go straight into the recorder's ``touched`` and
  ``reads`` sets, bound here as ``_touched`` / ``_reads``. The hooks that add
  to them stay inline in the journaled state's accessors (one ``is not None``
  test per call when off: a call into this module would cost more than the
  work). Reads made inside :meth:`BalRecording.paused` are not recorded.
* **per-index changes**: every slot a unit writes is noted in ``_unit_slots``
  (by ``set_storage``); before each fold of the transaction layer into the
  block layer (``lock_changes``) :meth:`BalRecording._capture_unit` keeps the
  value from before the unit of everything the fold is about to overwrite.
* **boundaries**: :meth:`BalRecording.finish_index` closes a
  ``blockAccessIndex`` unit and hands the recorder, for everything the unit
  wrote, its value before the unit and after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bal.recorder import BalRecorder

if TYPE_CHECKING:
    from pipeline.state_source import StateSource

    from .account_db import _Account, _Layer


class RecordingError(RuntimeError):
    """The recording API was used out of order (see BalRecording.start_recording)."""


class BalRecording:
    """Mixin of :class:`client.account_db.StoreAccountDB`: records its accesses and changes per unit."""

    if TYPE_CHECKING:
        # What the journaled state this is mixed into provides.
        _source: StateSource
        _tx: _Layer
        _block: _Layer

        def lock_changes(self) -> None: ...

        def _current(self, address: bytes) -> _Account: ...

        def _current_below(self, address: bytes) -> _Account: ...

        def _storage_below(self, address: bytes, slot: int) -> int: ...

        def _base_storage(self, address: bytes, slot: int) -> int: ...

        def _code(self, code_hash: bytes) -> bytes: ...

    def __init__(self) -> None:
        self._recorder: BalRecorder | None = None
        # The recorder's touch / read sets, bound here so the hooks cost one attribute test when off.
        self._touched: set[bytes] | None = None
        self._reads: set[tuple[bytes, int]] | None = None
        # The open blockAccessIndex unit: slots it wrote, and the values from
        # before the unit of what a lock_changes inside it already folded.
        self._unit_slots: set[tuple[bytes, int]] = set()
        self._unit_accounts: dict[bytes, _Account] = {}
        self._unit_storage: dict[tuple[bytes, int], int] = {}
        # accounts whose storage the unit wiped -> (wiped below?, block-layer slots) before it
        self._unit_wiped: dict[bytes, tuple[bool, dict[int, int]]] = {}

    @property
    def recorder(self) -> BalRecorder | None:
        """The recorder this database feeds, or None when not recording."""
        return self._recorder

    def start_recording(self, recorder: BalRecorder) -> None:
        """Feed ``recorder`` with every touch, read and change from now on.

        Call it right after the state is made, before the pre-execution system
        calls; the first unit closed is then blockAccessIndex 0. What was
        written before (py-evm's state constructor rewrites the EIP-4788/2935
        contracts' code with the same code) is folded into the block layer
        first: it is the baseline the first unit compares with, never a change.
        """
        if self._recorder is not None:
            raise RecordingError("already recording")
        tx = self._tx
        if tx.accounts or tx.storage or tx.wiped:
            self.lock_changes()
        self._recorder = recorder
        self._touched, self._reads = recorder.touched, recorder.reads
        self._clear_unit()

    def stop_recording(self) -> BalRecorder:
        """Stop recording and return the recorder; every write must be in a closed unit."""
        recorder = self._recorder
        if recorder is None:
            raise RecordingError("not recording")
        tx = self._tx
        pending = self._unit_slots or self._unit_accounts or self._unit_wiped
        if tx.accounts or tx.storage or tx.wiped or pending:
            raise RecordingError(
                f"writes after blockAccessIndex {recorder.last_index} are in no unit: call finish_index"
            )
        self._recorder = self._touched = self._reads = None
        self._clear_unit()
        return recorder

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Reads made inside (by anyone but the block's execution) are not recorded."""
        touched, reads = self._touched, self._reads
        self._touched = self._reads = None
        try:
            yield
        finally:
            self._touched, self._reads = touched, reads

    def finish_index(self, index: int | None = None) -> None:
        """Close blockAccessIndex ``index`` (default: the one after the last closed).

        Folds the transaction layer into the block layer (as ``lock_changes``
        does) and hands the recorder, for everything written since the previous
        unit closed, its value before the unit and after it. Call it after the
        pre-execution system calls (0), after each transaction i (i), and after
        withdrawals and the post-execution system calls (n + 1).
        """
        recorder = self._recorder
        if recorder is None:
            raise RecordingError("finish_index called while not recording")
        if index is None:
            index = recorder.last_index + 1
        if index <= recorder.last_index:
            raise RecordingError(f"blockAccessIndex {index} comes after {recorder.last_index} was closed")
        self.lock_changes()  # captures the unit's before-values, then folds
        # The transaction layer is empty now: the current values are the unit's after-values.
        before_after = {
            address: (before, self._current(address)) for address, before in self._unit_accounts.items()
        }
        storage = {
            key: (before, self._storage_below(*key)) for key, before in self._unit_storage.items()
        }
        accounts = self._block.accounts
        destroyed = {a for a in self._unit_wiped if a in accounts and accounts[a] is None}
        self._clear_unit()
        recorder.record_unit(index, before_after, storage, self._code, destroyed)

    def _capture_unit(self) -> None:
        """Before a fold: remember the pre-unit values of what the transaction layer wrote."""
        before = self._unit_accounts
        for address in self._tx.accounts:
            if address not in before:
                before[address] = self._current_below(address)
        wiped, block = self._unit_wiped, self._block
        for address in self._tx.wiped:
            if address not in wiped:
                # A slot first written after this wipe is folded still needs its pre-unit value.
                wiped[address] = (address in block.wiped, dict(block.storage.get(address, {})))
        storage = self._unit_storage
        for key in self._unit_slots:
            if key not in storage:
                storage[key] = self._storage_before_unit(*key)

    def _storage_before_unit(self, address: bytes, slot: int) -> int:
        below = self._unit_wiped.get(address)
        if below is None:
            return self._storage_below(address, slot)
        was_wiped, slots = below
        if slot in slots:
            return slots[slot]
        return 0 if was_wiped else self._base_storage(address, slot)

    def _clear_unit(self) -> None:
        self._unit_slots = set()
        self._unit_accounts = {}
        self._unit_storage = {}
        self._unit_wiped = {}
