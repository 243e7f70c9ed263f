"""Shared setup for the dossier tests: makes the helper module ``pack_builder`` importable.

pytest runs with ``--import-mode=importlib``, which does not put test directories on
``sys.path``; the tests and the benchmark script build their packs with
``pack_builder.py`` next to this file, so its directory is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
