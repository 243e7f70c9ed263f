"""``balrex import-bench``: which runs to make, the progress bar, the JSON and the report.

Without flags the chain is imported on the streaming path (the baseline);
``--with-bal`` imports it on the BAL path instead; ``--compare`` does both in
one invocation (baseline first, then with BAL) and, for a Prague chain,
py-evm's own import instead of the BAL path. ``--rounds N`` makes the runs N
times, alternated, for min and median wall times and ratios that a drifting
machine moves less (:mod:`client.tools.import_bench.rounds`). The JSON written
by ``--json`` is ``{"chain", "machine", "runs": {"baseline", "with_bal",
"py_evm"}}`` with every metric of every block (see
:mod:`client.tools.import_bench.runs`; with rounds, each run's median-wall
round, its number in ``round``) and, with rounds, ``"rounds"``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
from collections.abc import Callable
from functools import partial
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.genesis import build_genesis
from client.tools.bench_chain.chain_files import BenchChain
from pipeline.interpreter import freeze_live_objects, set_up_for_blocks

from .report import run_label, write_report
from .rounds import alternation, representative_round, rounds_summary
from .runs import run_pipeline, run_py_evm
from .table import rounds_table, summary_table


class ImportBenchError(ValueError):
    """The runs asked for do not apply to this chain."""


def plan_runs(chain: BenchChain, *, with_bal: bool, compare: bool) -> list[str]:
    """The runs to make, in order."""
    # Amsterdam blocks carry BALs (a chain crossing into Amsterdam has them from its first Amsterdam block).
    has_bals = any(bal is not None for bal in chain.bals)
    if with_bal and not has_bals:
        raise ImportBenchError("this chain carries no BALs: --with-bal needs an Amsterdam chain")
    if compare and not has_bals and chain.metadata.get("fork") != "prague":
        raise ImportBenchError("--compare needs an Amsterdam chain (BAL path) or a Prague chain (py-evm)")
    if compare:
        return ["baseline", "with_bal"] if has_bals else ["baseline", "py_evm"]
    return ["with_bal"] if with_bal else ["baseline"]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "balrex": package_version("balrex"),
        # The interpreter's setting during the runs (``pipeline.interpreter``): it changes how soon
        # the event loop reads a worker's reply while the executor's thread runs.
        "switch_interval_s": sys.getswitchinterval(),
        # The collector's generation thresholds, the youngest one set by ``pipeline.interpreter``.
        "gc_thresholds": list(gc.get_threshold()),
    }


def chain_summary(chain: BenchChain, path: Path) -> dict[str, Any]:
    meta = chain.metadata
    return {
        "path": str(path),
        "fork": meta.get("fork"),
        "blocks": len(chain.blocks),
        # An exported chain counts its transactions; a generated one has a fixed count per block.
        "txs": meta.get("txs", meta.get("blocks", 0) * meta.get("txs_per_block", 0)),
        "gas": meta.get("total_gas"),
        "seed": meta.get("seed"),
        "kinds": meta.get("tx_kinds"),
    }


def import_bench(
    chain: BenchChain,
    path: Path,
    runs: list[str],
    *,
    workers: int | None,
    console: Console,
    parallel: bool = True,
    pin_cores: bool = True,
    rounds: int = 1,
) -> dict[str, Any]:
    """Make the runs, each behind a progress bar; the whole report dict.

    With ``rounds`` above 1 the runs are made that many times, alternated
    (:func:`~client.tools.import_bench.rounds.alternation`); the report's
    ``runs`` then hold each run's median-wall round and ``rounds`` the min and
    median of them all and the ratios (:func:`~client.tools.import_bench.rounds.rounds_summary`).
    """
    # The node's interpreter settings, so that the runs measure the pipeline as the node runs it.
    set_up_for_blocks()
    report: dict[str, Any] = {"chain": chain_summary(chain, path), "machine": machine(), "runs": {}}
    genesis = build_genesis(chain.genesis)
    freeze_live_objects()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    made: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    order = alternation(runs, rounds)
    with Progress(*columns, console=console, transient=False) as progress:
        for name, number in order:
            label = run_label(name) if rounds == 1 else f"{run_label(name)}, round {number}"
            task = progress.add_task(f"{label:>22}", total=len(chain.blocks))
            advance: Callable[[], None] = partial(progress.advance, task)
            if name == "py_evm":
                made[name].append(run_py_evm(chain, genesis, advance))
            else:
                made[name].append(
                    run_pipeline(
                        chain,
                        genesis,
                        with_bal=name == "with_bal",
                        workers=workers,
                        progress=advance,
                        parallel=parallel,
                        pin_cores=pin_cores,
                    )
                )
    for name, reports in made.items():
        chosen = representative_round([float(run["summary"]["wall_s"]) for run in reports])
        report["runs"][name] = reports[chosen] | ({"round": chosen + 1} if rounds > 1 else {})
    if rounds > 1:
        report["rounds"] = rounds_summary(made, [f"{name}-{number}" for name, number in order])
    console.print(summary_table(report))
    if rounds > 1:
        console.print(rounds_table(report["rounds"]))
    return report


def write_outputs(report: dict[str, Any], json_path: Path | None, report_path: Path | None) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=1) + "\n")
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        write_report(report, report_path)
