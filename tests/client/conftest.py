"""Fixtures for client/ tests: EF fixture tests read from the shared archives."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ef-tests"))

from fixture_files import unpack_archive  # noqa: E402


def load_fixture_test(archive: str, relative: str) -> dict[str, Any]:
    """The first test of one fixture file inside ``../shared/fixtures/bal-v5.7.0-alpha/<archive>``."""
    default = REPO.parent / "shared" / "fixtures" / "bal-v5.7.0-alpha"
    path = Path(os.environ.get("EF_FIXTURES_DIR", default)) / archive
    assert path.is_file(), f"fixture archive missing: {path}"
    root = unpack_archive(path) / "blockchain_tests"
    return next(iter(json.loads((root / relative).read_text()).values()))


@pytest.fixture(scope="session")
def cancun_blob_test() -> dict[str, Any]:
    """Three valid Cancun blocks with blob transactions."""
    return load_fixture_test(
        "for_cancun.tar.gz",
        "for_cancun/cancun/eip4844_blobs/blobhash_opcode/blobhash_multiple_txs_in_block.json",
    )
