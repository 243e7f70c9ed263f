"""Amsterdam on our store: Osaka plus the Amsterdam EIPs that change execution.

* EIP-7843 SLOTNUM, with the 23-field header (``headers``, ``opcodes``);
* EIP-7708 ETH transfer and burn logs (``transfer_logs``);
* EIP-7778 block gas without refunds and EIP-8037 state-creation gas with its
  two-dimensional block accounting (``state_gas``, ``executor``, this module);
* EIP-7954 larger code and initcode limits; EIP-7976/7981 floor and access
  list costs; EIP-8024 DUPN/SWAPN/EXCHANGE;
* no EIP-7825 cap on a transaction's gas limit (only its regular gas is capped);
* EIP-7928's parallel execution: a block's later transactions can run in
  another process from the state its BAL claims (``parts``).

Blob parameters come from the chain config (``BalrexOsakaVM.for_chain``). The
block access list is recorded by the account database (``StoreExecution``)
and checked by ``pipeline/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from eth.abc import BlockAPI, BlockHeaderAPI, ChainContextAPI, ExecutionContextAPI, SignedTransactionAPI

from bal.deltas import AccountDelta
from bal.recorder import BalRecorder
from pipeline.chain import LaterPart

from ...senders import recover_senders
from ..osaka import BalrexOsakaVM
from ..receipts import BlockReceipts
from .headers import AmsterdamBlock
from .later_part import BlockGas, PartResult, TransactionOutcome
from .state import AmsterdamStoreState

# A later part recovers its transactions' senders this many at a time, just before it runs
# them. One at a time, each recovery found libsecp256k1's tables pushed out of the CPU caches
# by the transaction run before it: in a timeit probe a recovery took 155-193 us after 8 MB of
# other memory traffic against 83-91 us in a row, and in the bench chain's later parts the
# senders took 175-185 us a transaction one at a time against 125-135 us in batches of 16
# (counting the recoveries of stolen transactions). All of them up front would recover every
# sender that the node's process steals from the part's end, which it recovers again.
SENDER_BATCH = 16


class BalrexAmsterdamVM(BalrexOsakaVM):
    fork = "amsterdam"
    block_class = AmsterdamBlock
    _state_class = AmsterdamStoreState
    records_block_access_list = True  # EIP-7928

    @classmethod
    def create_execution_context(
        cls,
        header: BlockHeaderAPI,
        prev_hashes: Iterable[bytes],
        chain_context: ChainContextAPI,
    ) -> ExecutionContextAPI:
        context = super().create_execution_context(header, prev_hashes, chain_context)
        context.slot_number = getattr(header, "slot_number", 0)  # type: ignore[attr-defined]
        return context

    def validate_transaction_against_header(
        self, base_header: BlockHeaderAPI, transaction: SignedTransactionAPI
    ) -> None:
        """Replaced by the two-dimensional check in :meth:`run_transactions`."""

    def run_transactions(
        self,
        transactions: Sequence[SignedTransactionAPI],
        running: BlockHeaderAPI,
        later: LaterPart | None,
    ) -> tuple[BlockHeaderAPI, BlockReceipts]:
        """Run the transactions with EIP-7778/8037 block accounting (:class:`BlockGas`).

        Each transaction is admitted before it runs. With ``later``, only the
        transactions before ``later.first`` run here; the rest come from
        ``later`` (``later_part``): its state is laid over this one's and its
        BAL units merged into this recorder, so what follows (withdrawals, the
        post-execution system calls, index n + 1) runs on the whole block's state.
        If the part is still running when these are done, this process may take
        its end (``later.steal()``, :meth:`_run_stolen`): then the part's units
        and outcomes cover the transactions up to the stolen ones, and this
        state, which ran the stolen ones last, is the block's.
        """
        gas = BlockGas(running)
        if later is None:
            self._run_admitted(gas, transactions)
            return gas.finish()
        self._run_admitted(gas, transactions[: later.first])
        stolen_from = later.steal()
        stolen = None if stolen_from is None else self._run_stolen(transactions, stolen_from, later)
        part = later.result()
        if not isinstance(part, PartResult):
            raise TypeError(f"a later part sent back {type(part).__name__}, not a PartResult")
        db = self.state._account_db
        end = len(transactions) if stolen_from is None else stolen_from
        if stolen is None:
            db.apply_deltas(part.deltas)  # else this state already ran past the part's end
        db.recorder.absorb(part.recorder)
        gas.add_all(transactions[later.first : end], part.outcomes)
        if stolen is not None:
            outcomes, recorder = stolen
            db.recorder.absorb(recorder)
            gas.add_all(transactions[end:], outcomes)
        return gas.finish()

    def _run_stolen(
        self, transactions: Sequence[SignedTransactionAPI], start: int, later: LaterPart
    ) -> tuple[tuple[TransactionOutcome, ...], BalRecorder]:
        """Run the transactions from ``start`` on here, taken from the end of ``later``.

        Like a later part (:meth:`execute_later_part`), from the state the BAL
        claims before them, into a recorder of their own, which the block's
        absorbs after the part's; this state ends where the block's
        transactions end. Their admission waits, in block order, for the part's.
        """
        db = self.state._account_db
        block_recorder = db.stop_recording()
        recorder = BalRecorder(after_index=start)
        db.start_recording(recorder)
        db.apply_deltas(later.claimed_state(start))
        stolen = transactions[start:]
        recover_senders(stolen)
        outcomes = tuple(self._run_transaction(index, tx) for index, tx in enumerate(stolen, start))
        db.stop_recording()
        db.start_recording(block_recorder)
        return outcomes, recorder

    def execute_later_part(
        self,
        block: BlockAPI,
        first: int,
        transactions: Sequence[SignedTransactionAPI],
        start: Sequence[AccountDelta],
        may_run: Callable[[int], bool],
    ) -> PartResult:
        """Run ``transactions``, the block's from ``first`` on, from the state ``start`` (the BAL's claim).

        ``may_run(index)`` is asked before each transaction: once it says no, the
        part ends there (the node's process runs the rest, ``LaterPart.steal``).
        Only ``block``'s header is read. No block-level checks here: the
        process that runs the earlier part admits these transactions in order
        once their outcomes are back. ``start`` is the base the part runs on
        (``StoreAccountDB.start_from``), so the result's deltas are what the
        part's transactions changed, not the claim they started from.
        """
        db = self._open_block_state(block)
        recorder = BalRecorder(after_index=first)
        db.start_recording(recorder)
        db.start_from(start)
        ran = []
        for offset, transaction in enumerate(transactions):
            index = first + offset
            if not may_run(index):
                break
            if offset % SENDER_BATCH == 0:
                recover_senders(transactions[offset : offset + SENDER_BATCH])
            ran.append(self._run_transaction(index, transaction))
        outcomes = tuple(ran)
        deltas = db.account_deltas()
        db.stop_recording()
        return PartResult(outcomes, recorder, tuple(deltas))

    def _run_admitted(self, gas: BlockGas, transactions: Sequence[SignedTransactionAPI]) -> None:
        """Run the block's first transactions here, each admitted by the block gas before it runs."""
        for index, transaction in enumerate(transactions):
            gas.admit(transaction)
            gas.add(transaction, self._run_transaction(index, transaction))

    def _run_transaction(self, index: int, transaction: SignedTransactionAPI) -> TransactionOutcome:
        """Apply transaction ``index`` (0-based) and close its BAL unit (index + 1) when recording."""
        self.state.lock_changes()
        outcome = TransactionOutcome.of(self.state.apply_transaction(transaction))
        db = self.state._account_db
        if db.recorder is not None:
            db.finish_index(index + 1)
        return outcome
