"""The release archive the runner tests read."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_files import release_archive


@pytest.fixture(scope="session")
def amsterdam_archive() -> Path:
    return release_archive("for_amsterdam.tar.gz")
