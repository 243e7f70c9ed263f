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
from storage import RocksStore

from .chain import BlockOutline, ChainCore
from .processes import Handler, WorkerProcess

# Below this many transactions a block runs in one part: the round trip and the
# worker's decoding would cost about what the split saves.
MIN_TRANSACTIONS = 8
# The share of a block's transactions the node's process runs moves this far towards the
# balanced one after each split block (one slow block on a shared machine does not swing it)...
SHARE_SMOOTHING = 0.3
# ... and stays within these bounds, so neither side is ever left with (almost) nothing.
MIN_FIRST_SHARE = 0.2
MAX_FIRST_SHARE = 0.8


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
    # The chain's configuration, for the worker to build the same chain (``ChainCore.config``).
    config: object
    block_rlp: bytes
    parent_has_flat_state: bool
    first: int
    # The state the BAL claims after index ``first`` (the first part's transactions).
    start: tuple[AccountDelta, ...]


class LaterPartFailed(RuntimeError):
    """The later part did not come back (its transactions failed, or the worker did)."""


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
    ) -> None:
        self.handler_class = handler_class
        self.min_transactions = max(2, min_transactions)
        self.first_share = first_share
        self._worker: WorkerProcess | None = None

    def split_point(self, chain: ChainCore, outline: BlockOutline) -> int | None:
        """The index of the first transaction to run in the worker, or None to run the block here."""
        count = outline.transaction_count
        if count < self.min_transactions or not isinstance(chain.store, RocksStore):
            return None
        return min(count - 1, max(1, round(count * self.first_share)))

    def observe(self, first: int, first_seconds: float, later: int, later_seconds: float) -> None:
        """Move :attr:`first_share` towards the balanced share of the block just split."""
        balanced = balanced_share(first, first_seconds, later, later_seconds)
        if balanced is None:
            return
        moved = self.first_share + SHARE_SMOOTHING * (balanced - self.first_share)
        self.first_share = min(MAX_FIRST_SHARE, max(MIN_FIRST_SHARE, moved))

    def _live(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive():
            self._worker = WorkerProcess("balrex-later-part", self.handler_class)
        return self._worker

    def launch(self) -> None:
        """Start the worker process without waiting for it (its imports overlap the caller's work)."""
        self._live()

    def start(self) -> None:
        """Start the worker (unless launched) and wait until it answers (else the first block pays for it)."""
        self._live().wait_ready()

    def catch_up(self) -> None:
        """Have the worker, if started and idle, catch up with the store now (``WorkerProcess.catch_up``)."""
        if self._worker is not None:
            self._worker.catch_up()

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        return [] if self._worker is None else [self._worker.process]

    @property
    def busy(self) -> int:
        return int(self._worker is not None and self._worker.busy)

    async def run(
        self,
        chain: ChainCore,
        outline: BlockOutline,
        block_rlp: bytes,
        bal: BlockAccessList,
        first: int,
    ) -> tuple[object, float]:
        """Execute the block's transactions from ``first`` on in the worker.

        Returns its answer and when the worker finished it (``Answer.finished``).
        """
        store = chain.store
        if not isinstance(store, RocksStore):
            raise TypeError("the later-part worker reads RocksDB")
        request = LaterPartRequest(
            db_path=str(store.path),
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
        # For the pool's next split: when the part was sent, when the worker finished it, how many it ran.
        self._pool: LaterPartPool | None = None
        self._sent = 0.0
        self._finished = 0.0
        self._later_count = 0

    async def fetch(
        self,
        pool: LaterPartPool,
        chain: ChainCore,
        outline: BlockOutline,
        block_rlp: bytes,
        bal: BlockAccessList,
    ) -> None:
        """The trio task: run the part; keep its error for the executor instead of raising it."""
        self._pool = pool
        self._later_count = outline.transaction_count - self.first
        self._sent = time.perf_counter()
        try:
            self._result, self._finished = await pool.run(chain, outline, block_rlp, bal, self.first)
        except Exception as exc:
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> object:
        """The part's answer, once the executor's own part is done (it tells the pool both parts' times)."""
        first_done = time.perf_counter()
        self._done.wait()
        if self._result is None:
            raise LaterPartFailed(f"the later part did not come back: {self._error or 'cancelled'}")
        if self._pool is not None:
            self._pool.observe(
                self.first, first_done - self._sent, self._later_count, self._finished - self._sent
            )
        return self._result
