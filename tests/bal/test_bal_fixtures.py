"""Every BAL in the EF Amsterdam fixtures through bal/: codec round trips, header hash, validity.

Valid blocks carry ``blockAccessList``; blocks expected to be invalid carry theirs
inside ``rlp_decoded`` (possibly a deliberately broken one): every one of them
must round-trip, and a valid block's must also hash to its header's value.

The fixture directory is ``$EF_VECTORS`` if set, else the cache ``make vectors``
fills under ef-tests/vectors/. A missing directory is a failure, not a skip, so a
CI run without vectors cannot pass silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bal import (
    BalValidationError,
    bal_from_json,
    bal_hash,
    bal_to_json,
    decode_bal,
    encode_bal,
    validate_structure,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / "ef-tests/vectors/for_amsterdam/blockchain_tests/for_amsterdam"
VECTORS = Path(os.environ.get("EF_VECTORS") or DEFAULT_DIR)
MISSING = (
    f"EF fixture directory {VECTORS} does not exist: run `make vectors` to fetch and unpack "
    "the EF vectors, or set EF_VECTORS to an unpacked eip7928_block_level_access_lists directory"
)

FIXTURE_FILES = sorted(VECTORS.rglob("*.json")) if VECTORS.is_dir() else []


def _ids(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def blocks_with_bal(path: Path, *, include_invalid: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, block) for every block carrying a BAL; with ``include_invalid``, also the
    ``rlp_decoded`` part of blocks expected to be invalid."""
    with path.open() as fh:
        tests = json.load(fh)
    for name, test in tests.items():
        for i, block in enumerate(test.get("blocks", [])):
            if "blockAccessList" in block:
                yield f"{name} block {i}", block
            elif include_invalid and "blockAccessList" in block.get("rlp_decoded", {}):
                yield f"{name} block {i} (expected invalid)", {**block["rlp_decoded"], "expectException": 1}


def test_fixture_directory_present() -> None:
    assert VECTORS.is_dir(), MISSING
    assert FIXTURE_FILES, f"no *.json fixture files under {VECTORS}"
    total = sum(1 for f in FIXTURE_FILES for _ in blocks_with_bal(f))
    assert total > 0, f"no block with a blockAccessList in the fixtures under {VECTORS}"


@pytest.mark.parametrize("path", FIXTURE_FILES or [pytest.param(None, id="no-vectors")], ids=_ids)
def test_fixture_file_round_trips(path: Path | None) -> None:
    if path is None:
        pytest.fail(MISSING)
    checked = 0
    for label, block in blocks_with_bal(path, include_invalid=True):
        j = block["blockAccessList"]
        bal = bal_from_json(j)
        data = encode_bal(bal)
        assert decode_bal(data) == bal, label
        assert encode_bal(decode_bal(data)) == data, label
        assert bal_to_json(bal) == j, label
        if "expectException" not in block:
            assert "0x" + bal_hash(bal).hex() == block["blockHeader"]["blockAccessListHash"].lower(), label
        checked += 1
    # every Amsterdam block carries a BAL, at top level or inside rlp_decoded,
    # unless it is too malformed to decode at all
    if checked == 0:
        with path.open() as fh:
            tests = json.load(fh)
        assert all("expectException" in b for t in tests.values() for b in t.get("blocks", [])), (
            f"{path}: no block has a blockAccessList"
        )


@pytest.mark.parametrize("path", FIXTURE_FILES or [pytest.param(None, id="no-vectors")], ids=_ids)
def test_fixture_bals_are_structurally_valid(path: Path | None) -> None:
    """The BAL of every accepted block passes validate_structure with its block's bounds."""
    if path is None:
        pytest.fail(MISSING)
    for label, block in blocks_with_bal(path):
        if "expectException" in block:
            continue
        bal = bal_from_json(block["blockAccessList"])
        try:
            validate_structure(
                bal,
                tx_count=len(block.get("transactions", [])),
                gas_limit=int(block["blockHeader"]["gasLimit"], 16),
            )
        except BalValidationError as exc:
            pytest.fail(f"{label}: {exc}")
