"""The two shared packs reproduce every field of their expected dossiers (``interpretation`` aside)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixture_files import TRACE_PACKS_DIR

from client.tools.dossier.dossier import build_dossier
from client.tools.dossier.trace_pack import read_trace_pack

PACKS = TRACE_PACKS_DIR


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Every place where ``actual`` lacks or differs from ``expected`` (types included: 1 != 1.0)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        found = []
        for key, value in expected.items():
            if key == "interpretation":
                continue
            if key not in actual:
                found.append(f"{path}.{key}: missing")
            else:
                found += differences(actual[key], value, f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} is not a list of {len(expected)}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in differences(a, e, f"{path}[{i}]")
        ]
    if type(actual) is not type(expected) or actual != expected:
        return [f"{path}: {actual!r} != expected {expected!r}"]
    return []


@pytest.mark.parametrize(
    ("pack", "workers"), [("demo-mini", (1, 2, 4, 8, 16)), ("revm-smoke-mini", (1, 2, 4))]
)
def test_pack_reproduces_expected_dossier(pack: str, workers: tuple[int, ...]) -> None:
    expected = json.loads((PACKS / f"{pack}.expected.json").read_text())
    dossier = build_dossier(read_trace_pack(PACKS / pack), workers)
    # through JSON, as --json writes it
    actual = json.loads(json.dumps(dossier.fields))
    assert differences(actual, expected) == []


def test_differences_catches_a_changed_float() -> None:
    """The comparison itself fails on the last bit of a float and on an int for a float."""
    assert differences({"x": 22.222222222222225}, {"x": 22.22222222222222})
    assert differences({"x": 1}, {"x": 1.0})
    assert differences({"x": [1, 2]}, {"x": [1]})
    assert not differences({"x": 1.0, "interpretation": "a"}, {"x": 1.0, "interpretation": "b"})
