"""Test-wide setup: the EF runner's modules (in ef-tests/, not a package) and the helpers in tests/helpers/
are importable from every test.

``fixture_files`` there is the one place that names where the fixture
archives and trace packs are (``../shared`` beside the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "ef-tests"))
# ... and the helpers shared across test folders (tests/helpers: state_world).
sys.path.insert(0, str(REPO / "tests" / "helpers"))
