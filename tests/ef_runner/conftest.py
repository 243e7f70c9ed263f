"""Make the EF runner's modules (in ef-tests/, not a package) importable here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ef-tests"))


@pytest.fixture(scope="session")
def amsterdam_archive() -> Path:
    default = REPO.parent / "shared" / "fixtures" / "bal-v5.7.0-alpha"
    archive = Path(os.environ.get("EF_FIXTURES_DIR", default)) / "for_amsterdam.tar.gz"
    assert archive.is_file(), f"fixture archive missing: {archive} (../shared must sit beside the repo)"
    return archive
