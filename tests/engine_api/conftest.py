"""Shared setup for the engine_api tests: makes ``engine_harness`` importable, kills nodes at exit.

pytest runs with ``--import-mode=importlib``, which does not put test
directories on ``sys.path``; the helper module sits next to this file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from engine_harness import Node  # noqa: E402


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """``start_node(genesis_dict | None, name=..., extra_args=...)`` -> a running :class:`Node`.

    Every node started through it is killed when the test ends, pass or fail.
    """
    started: list[Node] = []

    def start(genesis: dict | None = None, name: str = "node", extra_args: tuple[str, ...] = ()) -> Node:  # type: ignore[type-arg]
        node = Node(tmp_path / name, genesis, extra_args)
        started.append(node)
        node.start()
        return node

    yield start
    for node in started:
        node.kill()


# Fixtures that start a real node process: a test that uses one is an integration test.
_NODE_FIXTURES = frozenset({"start_node", "node"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _NODE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
