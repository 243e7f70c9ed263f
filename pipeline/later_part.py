"""Where a BAL block's later part runs: a worker process kept alive across blocks.

EIP-7928's parallel execution: the node's
process executes the block's first transactions while a worker process
executes the rest from the state the BAL claims between them. Why a process:
execution is Python, and threads share one interpreter lock (pipeline.md §4).
With the merkleizer's worker that makes three busy processes on two cores for
part of each block; the operating system shares the cores, and the split
point (:attr:`LaterPartPool.first_share` of the transactions stay here, the
rest, the *later part*, go) is measured, block by block: the worker has to
decode the block and catch its store up first and reads the state without
the warmer, the node's process shares its interpreter with the warmer, and
how fast each side runs depends on what else the machine runs. After each
split block the pool moves the share towards the one at which both parts
would have finished together (:func:`balanced_share`, from the two parts'
measured rates), so the node's process neither waits for the worker nor
keeps it waiting. The split never changes a verdict (the merged BAL is
checked like a single run's), only when the parts finish.

The split point is a forecast, and single blocks miss it by tens of
milliseconds either way (what each transaction costs, what else the two cores
run). When the node's process is done first, it takes the rest of the later
part's end (:meth:`RemotePart.steal`): the two processes share a
:class:`TransactionClaims` board, on which the worker claims each transaction
before running it and the node's process can lower the end of the worker's
range once; it then runs the stolen transactions itself, from the state the BAL
claims before them, while the worker finishes the ones before. Stealing is
the same move as the split itself (a range run from the BAL's claimed state),
checked the same way.

:class:`RemotePart` is the bridge: a trio task sends the request and waits
for the reply, the executor's thread (which cannot await) blocks on
:meth:`RemotePart.result` once its own part is done. The task never fails
the nursery: a failed or cancelled part becomes an error the executor sees,
and the executor then runs the whole block itself, so a block's verdict is
always the sequential one.

The pool knows nothing of forks: it sends a :class:`LaterPartRequest` to the
handler class it was given (the chain's, ``client.later_part_worker``) and
hands back whatever that handler answers; the chain's fork code checks it.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass

from bal import BlockAccessList, synthesize_deltas
from bal.deltas import AccountDelta
from storage import RocksStore, Store

from .chain import BlockOutline, ChainCore
from .cores import Cores
from .processes import Handler, WorkerContext, WorkerProcess, worker_context

# Below this many transactions a block runs in one part: the round trip and the
# worker's decoding would cost about what the split saves.
MIN_TRANSACTIONS = 8
# The share of a block's transactions the node's process runs moves this far towards the
# balanced one after each split block (one slow block on a shared machine does not swing it)...
SHARE_SMOOTHING = 0.3
# ... and stays within these bounds, so neither side is ever left with (almost) nothing.
MIN_FIRST_SHARE = 0.2
MAX_FIRST_SHARE = 0.8
# The node's process steals from the later part only when at least this many of its
# transactions are not yet claimed: starting a range from the BAL's claimed state costs
# it about 3 ms (the claimed state, its senders), a few transactions' worth.
MIN_STEAL_REMAINING = 8
# When the pool steals, the split aims for the node's part to end this much before the
# worker's: the node's process can take over what the worker has left, the worker cannot
# help the node's process, so a block that runs late on the node's side is the costly one.
# In alternated import-bench runs (bench chain, 2 cores, per-block median wall) stealing
# without a lead gained nothing; 8 ms took 169.7 to 159.2 ms, 15 ms took 167.9 (at 8)
# to 162.0, and 25 ms lost to 15 (163.6 against 154.7).
STEAL_LEAD_S = 0.015


def balanced_share(first: int, first_seconds: float, later: int, later_seconds: float) -> float | None:
    """The share of transactions the first part should take for both parts to end together.

    Each part's rate (transactions per second) is measured from when the block
    started to when the part was done; None if a part took no measurable time.
    """
    if first_seconds <= 0 or later_seconds <= 0 or first <= 0 or later <= 0:
        return None
    first_rate = first / first_seconds
    later_rate = later / later_seconds
    return first_rate / (first_rate + later_rate)


@dataclass(frozen=True)
class LaterPartRequest:
    """Run the block's transactions from ``first`` on, from the state ``start`` claims."""

    db_path: str
    # The store's sequence number when the request was made (``RocksStore.sequence``): what
    # the worker's handle must see, else it catches up first.
    sequence: int
    # The chain's configuration, for the worker to build the same chain (``ChainCore.config``).
    config: object
    block_rlp: bytes
    parent_has_flat_state: bool
    first: int
    # The state the BAL claims after index ``first`` (the first part's transactions).
    start: tuple[AccountDelta, ...]


class LaterPartFailed(RuntimeError):
    """The later part did not come back (its transactions failed, or the worker did)."""


class TransactionClaims:
    """Which of a split block's later transactions the worker may still run, shared by both processes.

    Two numbers under one cross-process lock: the index of the next
    transaction the worker will run and the end of its range. The worker
    claims each transaction before it runs it (:meth:`take`); the node's
    process may move the end down to a transaction the worker has not claimed
    (:meth:`steal`). So every transaction runs in exactly one process.
    """

    def __init__(self, context: WorkerContext) -> None:
        """``context``: the one the worker process is started in (``processes.worker_context``)."""
        # [next index the worker runs, end of its range] and its lock; made before the worker
        # starts, which inherits them (the only way a lock reaches another process).
        self._lock = context.Lock()
        self._board = context.RawArray("q", 2)

    def open(self, first: int, end: int) -> None:
        """A new later part: the worker's range is ``[first, end)``."""
        with self._lock:
            self._board[0], self._board[1] = first, end

    def take(self, index: int) -> bool:
        """The worker's claim on transaction ``index`` (its next): False once it is past the end."""
        with self._lock:
            if index >= self._board[1]:
                return False
            self._board[0] = index + 1
            return True

    def steal(self, min_remaining: int) -> int | None:
        """Leave the worker the first third of what is unclaimed (rounded down); the new end, or None.

        None if fewer than ``min_remaining`` transactions are left unclaimed,
        or if the lock stays taken: a worker killed while it held it (its block
        was cancelled) never gives it back, and the executor must not wait on it.
        """
        if not self._lock.acquire(timeout=1.0):
            return None
        try:
            claimed, end = int(self._board[0]), int(self._board[1])
            remaining = end - claimed
            if remaining < min_remaining:
                return None
            # The node's process takes two thirds, not half: the worker is also still running
            # the transaction it last claimed, and once done its results have to be built,
            # cross the pipe and be read. Taking half, the node's process then waited for
            # the part 5-6 ms a block (bench chain); with two thirds 1.4-2.7 ms, and in eight
            # alternated import-bench pairs the BAL path's wall ratio was 0.929 (median,
            # lower in 7); with three quarters 1.038 against two thirds (6 pairs).
            new_end = claimed + remaining // 3
            self._board[1] = new_end
            return new_end
        finally:
            self._lock.release()


class LaterPartPool:
    """One later-part worker process over a RocksDB store, started on first use.

    ``handler_class`` is what the worker runs (the chain's later-part handler,
    answering :class:`LaterPartRequest`).
    """

    def __init__(
        self,
        handler_class: type[Handler],
        *,
        min_transactions: int = MIN_TRANSACTIONS,
        first_share: float = 0.5,
        steals: bool = True,
        cores: Cores | None = None,
    ) -> None:
        """``steals``: whether the node's process may take the end of a part (:class:`TransactionClaims`).

        ``cores``: where the worker runs (``pipeline.cores``); None: wherever the node's process may.
        """
        self.handler_class = handler_class
        self.cores = cores
        self.min_transactions = max(2, min_transactions)
        self.first_share = first_share
        self.steals = steals
        # The board shared with the current worker (made with it).
        self.claims: TransactionClaims | None = None
        self._worker: WorkerProcess | None = None

    def split_point(self, chain: ChainCore, outline: BlockOutline) -> int | None:
        """The index of the first transaction to run in the worker, or None to run the block here."""
        count = outline.transaction_count
        if count < self.min_transactions or not isinstance(chain.store, RocksStore):
            return None
        if not outline.parent_has_flat_state:
            return None  # the worker would read the parent's tries, which its handle does not open
        return min(count - 1, max(1, round(count * self.first_share)))

    def observe(self, first: int, first_seconds: float, later: int, later_seconds: float) -> None:
        """Move :attr:`first_share` towards the balanced share of the block just split.

        When the pool steals, balanced means the node's part ending :data:`STEAL_LEAD_S` first.
        """
        lead = STEAL_LEAD_S if self.steals else 0.0
        balanced = balanced_share(first, first_seconds + lead, later, later_seconds)
        if balanced is None:
            return
        moved = self.first_share + SHARE_SMOOTHING * (balanced - self.first_share)
        self.first_share = min(MAX_FIRST_SHARE, max(MIN_FIRST_SHARE, moved))

    def _live(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive():
            context = worker_context()
            self.claims = TransactionClaims(context)
            self._worker = WorkerProcess(
                "balrex-later-part",
                self.handler_class,
                handler_args=(self.claims,),
                context=context,
                cores=self.cores,
            )
        return self._worker

    def launch(self) -> None:
        """Start the worker process without waiting for it (its imports overlap the caller's work)."""
        self._live()

    def start(self, store: Store | None = None) -> None:
        """Start the worker (unless launched) and wait until it answers (else the first block pays for it).

        With ``store``, the worker also opens its handle on it first (``WorkerProcess.open_store``):
        opening a secondary handle reads the database's files, which took 80-100 ms of the first block.
        """
        worker = self._live()
        if isinstance(store, RocksStore):
            worker.open_store(str(store.path))
        worker.wait_ready()

    def catch_up(self, store: Store) -> None:
        """Have the worker, if started and idle, catch up with ``store`` now (``WorkerProcess.catch_up``)."""
        if self._worker is not None and isinstance(store, RocksStore):
            self._worker.catch_up(str(store.path))

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        return [] if self._worker is None else [self._worker.process]

    @property
    def busy(self) -> int:
        return int(self._worker is not None and self._worker.busy)

    def open_claims(self, first: int, end: int) -> TransactionClaims:
        """Start the worker if need be, and open its claims on a part's range ``[first, end)``."""
        self._live()
        assert self.claims is not None  # made with the worker
        self.claims.open(first, end)
        return self.claims

    async def run(
        self,
        chain: ChainCore,
        outline: BlockOutline,
        block_rlp: bytes,
        bal: BlockAccessList,
        first: int,
    ) -> tuple[object, float]:
        """Execute the block's transactions from ``first`` on in the worker.

        The caller has opened the claims on the part's range (:meth:`open_claims`). Returns the
        worker's answer and when the worker finished it (``Answer.finished``).
        """
        store = chain.store
        if not isinstance(store, RocksStore):
            raise TypeError("the later-part worker reads RocksDB")
        request = LaterPartRequest(
            db_path=str(store.path),
            sequence=store.sequence(),
            config=chain.config,
            block_rlp=block_rlp,
            parent_has_flat_state=outline.parent_has_flat_state,
            first=first,
            start=tuple(synthesize_deltas(bal, through_index=first)),
        )
        worker = self._live()
        answer = await worker.request(request)
        return answer, worker.last_finished

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None


class RemotePart:
    """A later part in flight, as the executor's thread sees it (a :class:`~pipeline.chain.LaterPart`)."""

    def __init__(self, first: int) -> None:
        self.first = first
        self._done = threading.Event()
        self._result: object | None = None
        self._error: BaseException | None = None
        self._pool: LaterPartPool | None = None
        self._bal: BlockAccessList | None = None
        self._end = 0  # the block's transaction count
        # Set once the claims are open on this part's range: only then may the executor steal.
        self._claims: TransactionClaims | None = None
        self._stolen_from: int | None = None
        # For the pool's next split: when the part was sent, when the executor's own part was
        # done, when the worker finished.
        self._sent = 0.0
        self._first_done: float | None = None
        self._finished = 0.0

    async def fetch(
        self,
        pool: LaterPartPool,
        chain: ChainCore,
        outline: BlockOutline,
        block_rlp: bytes,
        bal: BlockAccessList,
    ) -> None:
        """The trio task: run the part; keep its error for the executor instead of raising it."""
        self._pool, self._bal, self._end = pool, bal, outline.transaction_count
        self._sent = time.perf_counter()
        try:
            self._claims = pool.open_claims(self.first, self._end)
            self._result, self._finished = await pool.run(chain, outline, block_rlp, bal, self.first)
        except Exception as exc:
            self._error = exc
        finally:
            self._done.set()

    def steal(self) -> int | None:
        """Called once the executor's own part is done: take the end of the part if it is still running.

        Returns the index from which the executor now runs the block's
        transactions itself (the worker stops before it), or None.
        """
        self._first_done = time.perf_counter()
        pool, claims = self._pool, self._claims
        if pool is None or not pool.steals or claims is None or self._done.is_set():
            return None
        self._stolen_from = claims.steal(MIN_STEAL_REMAINING)
        return self._stolen_from

    @property
    def stolen(self) -> int:
        """How many transactions the executor took from the part's end."""
        return 0 if self._stolen_from is None else self._end - self._stolen_from

    def claimed_state(self, index: int) -> tuple[AccountDelta, ...]:
        """The state the BAL claims after blockAccessIndex ``index``, as deltas on the parent state."""
        if self._bal is None:
            raise LaterPartFailed("the later part was never sent")
        return synthesize_deltas(self._bal, through_index=index)

    def result(self) -> object:
        """The part's answer, once the executor's own part is done (it tells the pool both parts' times).

        After a steal the answer covers the transactions before the stolen ones.
        """
        first_done = self._first_done or time.perf_counter()
        self._done.wait()
        if self._result is None:
            raise LaterPartFailed(f"the later part did not come back: {self._error or 'cancelled'}")
        if self._pool is not None:
            ran = (self._end if self._stolen_from is None else self._stolen_from) - self.first
            self._pool.observe(self.first, first_done - self._sent, ran, self._finished - self._sent)
        return self._result
