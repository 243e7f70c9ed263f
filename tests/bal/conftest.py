"""Shared setup for the bal/ tests: makes the helper module ``bal_strategies`` importable.

pytest runs with ``--import-mode=importlib``, which does not put test directories
on ``sys.path``; the test modules import their hypothesis strategies and reference
encoder from ``bal_strategies.py`` next to this file, so its directory is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
