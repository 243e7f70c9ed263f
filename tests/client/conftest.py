"""Fixtures for client/ tests: EF fixture tests read from the shared archives."""

from __future__ import annotations

from typing import Any

import pytest
from fixture_files import first_test


@pytest.fixture(scope="session")
def cancun_blob_test() -> dict[str, Any]:
    """Three valid Cancun blocks with blob transactions."""
    return first_test(
        "for_cancun.tar.gz",
        "for_cancun/cancun/eip4844_blobs/blobhash_opcode/blobhash_multiple_txs_in_block.json",
    )
