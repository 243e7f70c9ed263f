"""Makes the shared helpers importable: ``wallet`` (dev-key signing), ``engine_harness`` (node processes)
and ``dev_process`` (a ``balrex dev`` process).

pytest runs with ``--import-mode=importlib``, which does not put test
directories on ``sys.path``; the helpers live beside the pool's and the
Engine API's tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for helper_dir in (_TESTS / "txpool", _TESTS / "engine_api", _TESTS / "production"):
    if str(helper_dir) not in sys.path:
        sys.path.insert(0, str(helper_dir))
