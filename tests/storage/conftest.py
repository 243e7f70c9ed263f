"""Shared fixtures for the storage/ tests: a fresh store per backend, and the ``storage_testkit`` import path.

pytest runs with ``--import-mode=importlib``, which does not put test directories
on ``sys.path``; the test modules (and the crash test's subprocess) import
``storage_testkit.py`` from this directory, so it is added here.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage import MemoryStore, RocksStore, Store

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

BACKENDS = ("memory", "rocks")

StoreFactory = Callable[[], Store]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh, empty stores of the parametrized backend; all closed at teardown."""
    opened: list[Store] = []
    counter = itertools.count()

    def make() -> Store:
        store: Store
        if backend == "memory":
            store = MemoryStore()
        else:
            store = RocksStore(tmp_path / f"db{next(counter)}")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    """A fresh, empty store: a MemoryStore, or a RocksStore in ``tmp_path``."""
    return make_store()
