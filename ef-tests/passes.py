"""The passes the runner offers, by the name given to ``--pass``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine_pass import node_group, run_engine_pass
from execution_passes import run_bal_pass, run_paths_pass, run_streaming_pass
from merkle_pass import run_merkle_pass
from outcomes import Outcomes
from pyevm_pass import run_pyevm_pass

PASSES: dict[str, Callable[[dict[str, Any], Outcomes], None]] = {
    "merkle": run_merkle_pass,
    "pyevm": run_pyevm_pass,
    "streaming": run_streaming_pass,
    "bal": run_bal_pass,
    "paths": run_paths_pass,
    "engine": run_engine_pass,
}

# Passes whose tests of one group share costly state: each file's tests of a group run together.
PASS_GROUPS: dict[str, Callable[[dict[str, Any]], str]] = {"engine": node_group}
