"""The on-disk store: RocksDB through rocksdict, the node's default backend.

rocksdict is opened in raw mode (bytes in, bytes out; no pickling). A batch is
one RocksDB WriteBatch, which RocksDB applies atomically and, with the WAL on,
durably enough that a killed process reopens at the last committed batch.

A *secondary* handle (``RocksStore.secondary``) is how another process reads
the same database while the node writes it: the pipeline's worker processes
(merkleizer, later-part executor) keep one each (:class:`Follower`). It sees
the primary's committed batches once it catches up, which replays them: the
later-part worker catches up before every block, the merkleizer's only when
a request needs it (:class:`Follower`).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Generator
from operator import itemgetter
from pathlib import Path

from rocksdict import AccessType, Options, Rdict
from rocksdict import WriteBatch as RocksWriteBatch

from .store import Store, StoreClosed


class RocksStore(Store):
    def __init__(
        self, path: str | Path, *, read_only: bool = False, secondary_path: str | Path | None = None
    ) -> None:
        self.path = Path(path)
        options = Options(raw_mode=True)
        if secondary_path is not None:
            # A secondary needs unlimited open files to follow the primary's SST files.
            options.set_max_open_files(-1)
            # Every catch-up that finds a new version of the primary's files loads their table
            # handlers on max_file_opening_threads threads (16 by default), started and joined
            # inside the call: about 30 threads a block in the later-part worker. On one thread
            # a catch-up took 2-2.4 ms less CPU (of 5-8) in a probe of block-sized batches.
            options.set_max_file_opening_threads(1)
            access = AccessType.secondary(str(secondary_path))
        elif read_only:
            access = AccessType.read_only()
        else:
            options.create_if_missing(True)
            self.path.mkdir(parents=True, exist_ok=True)
            access = AccessType.read_write()
        self._db: Rdict | None = Rdict(str(self.path), options, access_type=access)
        # Unfinished iterations pin the database; close() ends them first.
        self._iterations: weakref.WeakSet[Generator[tuple[bytes, bytes], None, None]] = weakref.WeakSet()

    @classmethod
    def secondary(cls, path: str | Path, secondary_path: str | Path) -> RocksStore:
        """A read-only follower of the database at ``path`` (its own files under ``secondary_path``)."""
        return cls(path, secondary_path=secondary_path)

    def catch_up(self) -> None:
        """Make a secondary handle see every batch the primary has committed so far."""
        self._live().try_catch_up_with_primary()

    def sequence(self) -> int:
        """RocksDB's number of the last write this handle sees (a secondary's: up to its last catch-up).

        A secondary whose number is the primary's has nothing to replay.
        """
        return int(self._live().latest_sequence_number())

    def _live(self) -> Rdict:
        if self._db is None:
            raise StoreClosed(f"store at {self.path} is closed")
        return self._db

    def _get(self, key: bytes) -> bytes | None:
        return self._live().get(key)

    def _iterate(self, prefix: bytes) -> Generator[tuple[bytes, bytes], None, None]:
        iteration = self._scan(self._live(), prefix)
        self._iterations.add(iteration)
        return iteration

    @staticmethod
    def _scan(db: Rdict, prefix: bytes) -> Generator[tuple[bytes, bytes], None, None]:
        it = db.iter()
        try:
            it.seek(prefix)
            while it.valid():
                key = it.key()
                if not key.startswith(prefix):
                    break
                yield key, it.value()
                it.next()
        finally:
            # A live iterator pins the database: RocksDB refuses to reopen it.
            del it

    def _write(self, ops: list[tuple[bytes, bytes | None]]) -> None:
        batch = RocksWriteBatch(raw_mode=True)
        # In key order (a stable sort: a key's own operations keep their order, the last one
        # wins as before): RocksDB inserts sorted keys into its memtable faster than random
        # ones (a block's batch is mostly trie nodes under random hashes).
        for key, value in sorted(ops, key=itemgetter(0)):
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        self._live().write(batch)

    def close(self) -> None:
        if self._db is not None:
            for iteration in list(self._iterations):
                iteration.close()
            self._db.close()
            self._db = None


class Follower:
    """A worker process's secondary handle on the node's database, kept from block to block.

    Opened on first use, reopened when the database path changes. A secondary
    handle sees the primary's batches only once it catches up (it replays the
    primary's log, about 3-5 ms of CPU a block on the bench chain):
    :meth:`store_for` catches it up every time, for readers of keys that
    change in place (the flat state); :meth:`handle_for` leaves that to the
    caller, for readers of content-addressed keys (trie nodes), to which an
    older view never gives a wrong value. Its own files live in a temporary
    directory, removed by :meth:`close`.
    """

    def __init__(self, prefix: str) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix=prefix))
        self._store: RocksStore | None = None

    def handle_for(self, db_path: str) -> tuple[RocksStore, bool]:
        """The handle on ``db_path``, and whether it was (re)opened just now.

        A handle opened just now sees everything committed so far; one opened
        before sees what it saw at its last catch-up.
        """
        opened = not self.follows(db_path)
        if opened:
            self._close_store()
            self._store = RocksStore.secondary(db_path, self._dir / "follower")
            self._store.catch_up()
        assert self._store is not None
        return self._store, opened

    def store_for(self, db_path: str, sequence: int | None = None) -> RocksStore:
        """The handle on ``db_path``, caught up with everything committed so far.

        ``sequence``: the primary's :meth:`RocksStore.sequence` when the caller last wrote; a
        handle that already sees it is not caught up again (an empty catch-up still lists the
        database's files: about 2 ms of CPU on the bench chain's, before the later part can start).
        """
        store, opened = self.handle_for(db_path)
        if not opened and (sequence is None or store.sequence() < sequence):
            store.catch_up()
        return store

    def follows(self, db_path: str) -> bool:
        """Whether the open handle (if any) is on ``db_path``."""
        return self._store is not None and str(self._store.path) == db_path

    def catch_up(self) -> None:
        """Catch the open handle up now, if one is open (the next :meth:`store_for` then has less to do)."""
        if self._store is not None:
            self._store.catch_up()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        shutil.rmtree(self._dir / "follower", ignore_errors=True)

    def close(self) -> None:
        self._close_store()
        shutil.rmtree(self._dir, ignore_errors=True)
