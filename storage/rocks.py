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

Two column families: ``default`` holds what executing a transaction reads
(flat state, code, headers, the canonical index, the head pointers), the
:data:`TRIES_AND_BLOCKS` family the rest (trie nodes, bodies, receipts, BALs,
the transaction index, flat-state diffs), two thirds of a block's keys. A batch
spans both and is still applied atomically (RocksDB's WriteBatch is). The
later-part worker executes only, so its handle opens ``default`` alone
(``RocksStore.secondary(..., execution_only=True)``) and its catch-up before each
block replays a third of the keys: on the bench chain 4.6 ms of CPU a block
fell to 2.3.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Generator
from operator import itemgetter
from pathlib import Path

from rocksdict import AccessType, ColumnFamily, Options, Rdict
from rocksdict import WriteBatch as RocksWriteBatch

from .store import Space, Store, StoreClosed

# The column family of the key spaces no transaction's execution reads (see the module docstring).
TRIES_AND_BLOCKS = "tries_and_blocks"
TRIES_AND_BLOCKS_SPACES = frozenset(
    {Space.NODE, Space.BODY, Space.RECEIPTS, Space.BAL, Space.TX_INDEX, Space.FLAT_CHANGES, Space.FLAT_UNDO}
)
# Their one-byte prefixes as the first byte of a full key reads (an int).
_TRIES_AND_BLOCKS_FIRST_BYTES = frozenset(space[0] for space in TRIES_AND_BLOCKS_SPACES)


class StoreLayoutError(RuntimeError):
    """A data dir this build cannot use, or a read its handle was not opened for."""


class RocksStore(Store):
    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        secondary_path: str | Path | None = None,
        execution_only: bool = False,
    ) -> None:
        """``execution_only`` (secondaries): open only what executing reads; other reads raise."""
        self.path = Path(path)
        _refuse_single_family(self.path)
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
            options.create_missing_column_families(True)
            self.path.mkdir(parents=True, exist_ok=True)
            access = AccessType.read_write()
        families = {} if execution_only else {TRIES_AND_BLOCKS: Options(raw_mode=True)}
        db = Rdict(str(self.path), options, column_families=families, access_type=access)
        self._db: Rdict | None = db
        # The family of trie nodes and block records: to read (an Rdict on it) and to write to (its
        # handle); neither on an execution-only handle.
        self._tries_and_blocks: Rdict | None = None
        self._tries_and_blocks_handle: ColumnFamily | None = None
        if not execution_only:
            self._tries_and_blocks = db.get_column_family(TRIES_AND_BLOCKS)
            self._tries_and_blocks_handle = db.get_column_family_handle(TRIES_AND_BLOCKS)
        # Unfinished iterations pin the database; close() ends them first.
        self._iterations: weakref.WeakSet[Generator[tuple[bytes, bytes], None, None]] = weakref.WeakSet()

    @classmethod
    def secondary(
        cls, path: str | Path, secondary_path: str | Path, *, execution_only: bool = False
    ) -> RocksStore:
        """A read-only follower of the database at ``path`` (its own files under ``secondary_path``).

        ``execution_only``: without the :data:`TRIES_AND_BLOCKS` family, for a reader that only
        executes transactions on a parent with flat state (its catch-ups replay a third of the keys).
        """
        return cls(path, secondary_path=secondary_path, execution_only=execution_only)

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

    def _family(self, first_byte: int) -> Rdict:
        """The column family holding keys that start with ``first_byte``."""
        if first_byte in _TRIES_AND_BLOCKS_FIRST_BYTES:
            return self._tries_and_blocks_family(first_byte)
        return self._live()

    def _tries_and_blocks_family(self, first_byte: int) -> Rdict:
        """The :data:`TRIES_AND_BLOCKS` family, for a key starting with ``first_byte`` (named if refused)."""
        self._live()  # a closed store says so first
        if self._tries_and_blocks is None:
            raise StoreLayoutError(
                f"this handle on {self.path} was opened to execute only: it does not read "
                f"{Space(bytes((first_byte,))).name} keys"
            )
        return self._tries_and_blocks

    def _get(self, key: bytes) -> bytes | None:
        # :meth:`_family` inlined: the state reads (thousands a block) go straight to the default family.
        if key[0] in _TRIES_AND_BLOCKS_FIRST_BYTES:
            return self._tries_and_blocks_family(key[0]).get(key)
        return self._live().get(key)

    def _iterate(self, prefix: bytes) -> Generator[tuple[bytes, bytes], None, None]:
        iteration = self._scan(self._family(prefix[0]), prefix)
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
        db = self._live()
        tries_and_blocks = self._tries_and_blocks_handle
        if tries_and_blocks is None:
            raise StoreLayoutError(f"this handle on {self.path} was opened to execute only: no writes")
        for key, value in sorted(ops, key=itemgetter(0)):
            family = tries_and_blocks if key[0] in _TRIES_AND_BLOCKS_FIRST_BYTES else None
            if value is None:
                batch.delete(key, family)
            else:
                batch.put(key, value, family)
        db.write(batch)

    def close(self) -> None:
        if self._db is not None:
            for iteration in list(self._iterations):
                iteration.close()
            self._tries_and_blocks = self._tries_and_blocks_handle = None
            self._db.close()
            self._db = None


def _refuse_single_family(path: Path) -> None:
    """Raise :class:`StoreLayoutError` for a database written before the :data:`TRIES_AND_BLOCKS` family.

    Opened as it is, its trie nodes and block records would look absent (and
    the family would be created empty beside them): the data dir must be synced again.
    """
    if not (path / "CURRENT").exists():
        return
    if TRIES_AND_BLOCKS not in Rdict.list_cf(str(path)):
        raise StoreLayoutError(
            f"{path} was written by an older balrex (trie nodes and blocks beside the flat state, "
            f"one column family): remove it and import the chain again"
        )


class Follower:
    """A worker process's secondary handle on the node's database, kept from block to block.

    Opened on first use, reopened when the database path changes. A secondary
    handle sees the primary's batches only once it catches up (it replays the
    primary's log: 4.6 ms of CPU a block on the bench chain, 2.3 without the tries and blocks):
    :meth:`store_for` catches it up every time, for readers of keys that
    change in place (the flat state); :meth:`handle_for` leaves that to the
    caller, for readers of content-addressed keys (trie nodes), to which an
    older view never gives a wrong value. Its own files live in a temporary
    directory, removed by :meth:`close`.
    """

    def __init__(self, prefix: str, *, execution_only: bool = False) -> None:
        """``execution_only``: the handle opens what executing reads only (``RocksStore.secondary``)."""
        self._dir = Path(tempfile.mkdtemp(prefix=prefix))
        self._execution_only = execution_only
        self._store: RocksStore | None = None

    def handle_for(self, db_path: str) -> tuple[RocksStore, bool]:
        """The handle on ``db_path``, and whether it was (re)opened just now.

        A handle opened just now sees everything committed so far; one opened
        before sees what it saw at its last catch-up.
        """
        opened = not self.follows(db_path)
        if opened:
            self._close_store()
            self._store = RocksStore.secondary(
                db_path, self._dir / "follower", execution_only=self._execution_only
            )
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
