"""In-memory store: the twin of the RocksDB store, for tests and throwaway runs."""

from __future__ import annotations

from collections.abc import Iterator

from .store import Store, StoreClosed


class MemoryStore(Store):
    def __init__(self) -> None:
        self._data: dict[bytes, bytes] | None = {}

    def _live(self) -> dict[bytes, bytes]:
        if self._data is None:
            raise StoreClosed("memory store is closed")
        return self._data

    def _get(self, key: bytes) -> bytes | None:
        return self._live().get(key)

    def _iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        data = self._live()
        for key in sorted(k for k in data if k.startswith(prefix)):
            yield key, data[key]

    def _write(self, ops: list[tuple[bytes, bytes | None]]) -> None:
        data = self._live()
        # Stage first so that a bad operation cannot leave half a batch applied.
        staged = dict(data)
        for key, value in ops:
            if value is None:
                staged.pop(key, None)
            else:
                staged[key] = value
        self._data = staged

    def close(self) -> None:
        self._data = None
