"""Where a BAL block's later transactions run: a worker process kept alive across blocks.

EIP-7928's parallel execution (``client.forks.amsterdam.parts``): the node's
process executes the block's first transactions while a worker process
executes the rest from the state the BAL claims between them. Why a process:
execution is Python, and threads share one interpreter lock (pipeline.md §4).
With the merkleizer's worker that makes three busy processes on two cores for
part of each block; the operating system shares the cores, and the split
point (:attr:`PartWorkerPool.first_share` of the transactions stay here, the
rest go) is a measured choice, not a derived one: the node's process also
runs the system calls, withdrawals and checks, and the worker has to decode
the block and catch its store up first.

:class:`RemotePart` is the bridge: a trio task sends the request and waits
for the reply, the executor's thread (which cannot await) blocks on
:meth:`RemotePart.result` once its own part is done. The task never fails
the nursery: a failed or cancelled part becomes an error the executor sees,
and the executor then runs the whole block itself, so a block's verdict is
always the sequential one.
"""

from __future__ import annotations

import multiprocessing
import threading

from bal import BlockAccessList, synthesize_deltas
from client.blockchain import Blockchain, PreparedBlock
from client.forks.amsterdam.parts import PartResult
from client.part_worker import PartWorker
from storage import RocksStore

from .processes import WorkerProcess

# Below this many transactions a block runs in one part: the round trip and the
# worker's decoding would cost about what the split saves.
MIN_TRANSACTIONS = 8


class LaterPartFailed(RuntimeError):
    """The later part did not come back (its transactions failed, or the worker did)."""


class PartWorkerPool:
    """One later-part worker process over a RocksDB store, started on first use."""

    def __init__(self, *, min_transactions: int = MIN_TRANSACTIONS, first_share: float = 0.5) -> None:
        self.min_transactions = max(2, min_transactions)
        self.first_share = first_share
        self._worker: WorkerProcess | None = None

    def split_point(self, blockchain: Blockchain, prepared: PreparedBlock) -> int | None:
        """The index of the first transaction to run in the worker, or None to run the block here."""
        count = len(prepared.block.transactions)
        if count < self.min_transactions or not isinstance(blockchain.store, RocksStore):
            return None
        return min(count - 1, max(1, round(count * self.first_share)))

    def _live(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive():
            self._worker = WorkerProcess("balrex-part", PartWorker)
        return self._worker

    def start(self) -> None:
        """Start the worker and wait until it answers (else the first block pays for starting Python)."""
        self._live().wait_ready()

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        return [] if self._worker is None else [self._worker.process]

    @property
    def busy(self) -> int:
        return int(self._worker is not None and self._worker.busy)

    async def run(
        self,
        blockchain: Blockchain,
        prepared: PreparedBlock,
        block_rlp: bytes,
        bal: BlockAccessList,
        first: int,
    ) -> PartResult:
        """Execute the block's transactions from ``first`` on in the worker."""
        store = blockchain.store
        assert isinstance(store, RocksStore)
        start = synthesize_deltas(bal, through_index=first)
        result: PartResult = await self._live().request(
            ("later-part", str(store.path), blockchain.config, block_rlp, prepared.extends_tip, first, start)
        )
        return result

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None


class RemotePart:
    """A later part in flight, as the executor's thread sees it (``amsterdam.parts.LaterPart``)."""

    def __init__(self, first: int) -> None:
        self.first = first
        self._done = threading.Event()
        self._result: PartResult | None = None
        self._error: BaseException | None = None

    async def fetch(
        self,
        pool: PartWorkerPool,
        blockchain: Blockchain,
        prepared: PreparedBlock,
        block_rlp: bytes,
        bal: BlockAccessList,
    ) -> None:
        """The trio task: run the part; keep its error for the executor instead of raising it."""
        try:
            self._result = await pool.run(blockchain, prepared, block_rlp, bal, self.first)
        except Exception as exc:
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> PartResult:
        self._done.wait()
        if self._result is None:
            raise LaterPartFailed(f"the later part did not come back: {self._error or 'cancelled'}")
        return self._result
