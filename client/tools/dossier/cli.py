"""``balrex dossier ...``: the typer sub-app (mounted by :mod:`client.cli`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .analysis import BlockConflicts, analyze_block
from .beside import Beside
from .ceiling import bal_ceiling
from .chain import BlockRange, ChainSourceError, observe_chain
from .dossier import DEFAULT_WORKERS, Dossier, build_dossier, range_title
from .measured import MeasuredError, MeasuredRuns, load_measured, measured_in_run, measured_vs_predicted
from .model import AccessSource, BlockAccesses
from .oracle import oracle_quality
from .report_chain import chain_parts, parts_html, parts_markdown
from .report_html import render_html
from .report_markdown import render_markdown
from .report_trace import trace_events
from .report_views import views_html, views_markdown
from .trace_pack import TracePackError, read_trace_pack
from .views import compare_views

dossier_app = typer.Typer(
    no_args_is_help=True,
    help="How much of a block range could run in parallel, and what serializes it.",
)

#: blocks from which a progress bar is shown (smaller sources finish before it would draw)
PROGRESS_FROM_BLOCKS = 20


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def parse_workers(text: str) -> tuple[int, ...]:
    """``"1,2,4"`` as worker counts (each at least 1)."""
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"{text!r}: give comma-separated worker counts, each at least 1")
    return counts


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str], Callable[[int, int], None]]]:
    """A factory of per-stage progress callbacks ``(done, total)`` drawing one rich bar per stage."""
    # Redrawn on each update, not by rich's refresh thread: the process stays single-threaded,
    # so the chain dossier can fork its worker (``pipeline.processes.can_fork``).
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    ) as progress:

        def stage(description: str) -> Callable[[int, int], None]:
            task = None

            def update(done: int, total: int) -> None:
                nonlocal task
                if total < PROGRESS_FROM_BLOCKS:
                    return
                if task is None:
                    task = progress.add_task(description, total=total)
                progress.update(task, completed=done, refresh=True)

            return update

        yield stage


def write_outputs(renderers: dict[Path | None, Callable[[], str]]) -> list[Path]:
    """Write each requested report (a path that is None was not asked for); returns the paths written."""
    written = []
    for path, render in renderers.items():
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render())
            written.append(path)
    return written


def _trace_workers(counts: tuple[int, ...], trace_workers: int | None, workers: str) -> int:
    drawn = max(counts) if trace_workers is None else trace_workers
    if drawn not in counts:
        _fail(f"--trace-workers {drawn} is not one of --workers {workers}")
    return drawn


def _print_summary(dossier: Dossier) -> None:
    fields = dossier.fields
    gas_ceiling = fields["theoretical_parallelism_ceiling_by_gas"]
    typer.echo(
        f"{range_title(dossier)}: {fields['tx_count']} txs, "
        f"{fields['conflict_pair_count']} conflict pairs ({fields['conflict_percentage']:.2f}%), "
        f"{fields['wave_count']} waves, ceiling {fields['theoretical_parallelism_ceiling_by_tx']:.2f}x by txs"
        + ("" if gas_ceiling is None else f", {gas_ceiling:.2f}x by gas")
    )
    for row in fields["worker_simulation"]:
        typer.echo(
            f"  {row['workers']:>3} workers: makespan {row['makespan']:,}, "
            f"speedup {row['speedup_vs_one_worker']:.2f}x, idle {row['idle_percentage']:.1f}%"
        )


def _print_chain_extras(
    ceiling: dict[str, Any], oracle: dict[str, Any], measured: dict[str, Any] | None
) -> None:
    speedups = ", ".join(
        f"{row['workers']}: {row['speedup_vs_one_worker']:.2f}x" for row in ceiling["worker_simulation"]
    )
    typer.echo(
        f"  BAL ceiling (workers only): {speedups}; unbounded {ceiling['unbounded_workers_speedup']:.2f}x"
    )

    def pair(name: str) -> str:
        cell = oracle[name]
        return " / ".join(
            "n/a" if cell[key] is None else f"{cell[key]:.1f}%"
            for key in ("precision_percentage", "recall_percentage")
        )

    typer.echo(
        f"  oracle precision / recall: keys {pair('keys')}, storage {pair('storage_keys')}, "
        f"pairs {pair('conflict_pairs')}"
    )
    if measured is not None and measured["measured_speedup"] is not None:
        typer.echo(
            f"  measured split speedup ({measured['method']}) {measured['measured_speedup']:.2f}x "
            f"over {measured['split_blocks']} blocks; "
            f"balrex's split at best {measured['predicted_split_speedup']:.2f}x"
        )
    else:
        typer.echo(
            "  measured split speedup: no block ran split (--measure-split for a bench chain, "
            "or --bench-split with --bench-whole)"
        )


@dossier_app.command("trace-pack")
def trace_pack(
    pack: Annotated[Path, typer.Argument(help="a trace-pack-v1 folder, or a .tar / .tar.gz of one")],
    workers: Annotated[
        str, typer.Option("--workers", help="worker counts to simulate, comma-separated")
    ] = ",".join(map(str, DEFAULT_WORKERS)),
    json_out: Annotated[Path | None, typer.Option("--json", help="write every metric to this file")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", help="write a Markdown report")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="write a self-contained HTML page")] = None,
    trace_out: Annotated[
        Path | None, typer.Option("--trace", help="write the simulated schedules as Chrome trace-event JSON")
    ] = None,
    trace_workers: Annotated[
        int | None,
        typer.Option("--trace-workers", help="worker count drawn in --trace (default: the largest)"),
    ] = None,
) -> None:
    """Conflicts, waves, critical paths and simulated schedules of a trace pack's blocks."""
    counts = parse_workers(workers)
    drawn = _trace_workers(counts, trace_workers, workers)
    try:
        with _progress(Console(stderr=True)) as stage:
            source = read_trace_pack(pack, on_block=stage("reading blocks"))
            dossier = build_dossier(source, counts, on_block=stage("analyzing blocks"))
    except TracePackError as exc:
        _fail(str(exc))
    _print_summary(dossier)
    renderers: dict[Path | None, Callable[[], str]] = {
        json_out: lambda: json.dumps(dossier.fields, indent=2) + "\n",
        markdown_out: lambda: render_markdown(dossier),
        html_out: lambda: render_html(dossier),
        trace_out: lambda: json.dumps(trace_events(dossier, drawn)) + "\n",
    }
    for path in write_outputs(renderers):
        typer.echo(f"wrote {path}")


@dataclass(frozen=True)
class _BalSide:
    """What the forked process hands back: small, the blocks themselves are this process's already."""

    fields: dict[str, Any]
    #: per block, the BAL view's and the oracle's conflict masks
    bal_masks: list[tuple[int, ...]]
    oracle_masks: list[tuple[int, ...]]


def _bal_side(
    bal_source: AccessSource, oracle_blocks: Sequence[BlockAccesses], counts: tuple[int, ...]
) -> _BalSide:
    """The BAL view's dossier, and the conflicts of what the oracle predicts.

    The oracle's transactions are the execution view's, with their durations: the BAL
    view's transactions carry the same gas, so its graphs have the same durations.
    """
    bal = build_dossier(bal_source, counts)
    oracle_masks = [
        analyze_block(block, graph.durations, bal_source.gas_complete).conflict_masks
        for block, graph in zip(oracle_blocks, bal.graphs, strict=True)
    ]
    return _BalSide(bal.fields, [graph.conflict_masks for graph in bal.graphs], oracle_masks)


@dossier_app.command("chain")
def chain(
    source: Annotated[
        Path,
        typer.Argument(
            help="a bench-chain folder (balrex bench-chain), a node's data dir, "
            "or an EF fixture file or folder"
        ),
    ],
    workers: Annotated[
        str, typer.Option("--workers", help="worker counts to simulate, comma-separated")
    ] = ",".join(map(str, DEFAULT_WORKERS)),
    keep_coinbase: Annotated[
        bool,
        typer.Option("--keep-coinbase", help="keep the fee recipient's account key (every tx writes it)"),
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="EF fixtures: only files whose path contains this")
    ] = None,
    first: Annotated[
        int | None, typer.Option("--from", help="data dir: first block to analyze [default: 1]")
    ] = None,
    last: Annotated[
        int | None, typer.Option("--to", help="data dir: last block to analyze [default: the head]")
    ] = None,
    genesis: Annotated[
        Path | None,
        typer.Option("--genesis", help="data dir: its genesis (default: <datadir>/genesis.json, else dev)"),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="both views and their difference")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", help="write a Markdown report")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="write a self-contained HTML page")] = None,
    trace_out: Annotated[
        Path | None, typer.Option("--trace", help="the execution view's simulated schedules (Chrome trace)")
    ] = None,
    trace_workers: Annotated[
        int | None,
        typer.Option("--trace-workers", help="worker count drawn in --trace (default: the largest)"),
    ] = None,
    measure_split: Annotated[
        bool,
        typer.Option(
            "--measure-split",
            help="bench chain: import it through the node's split BAL path, block after block, "
            "and measure each block's split (slower: the default executes blocks on both cores)",
        ),
    ] = False,
    bench_split: Annotated[
        Path | None,
        typer.Option("--bench-split", help="import-bench --with-bal JSON of this chain (the split BAL path)"),
    ] = None,
    bench_whole: Annotated[
        Path | None,
        typer.Option("--bench-whole", help="import-bench --with-bal --no-parallel JSON of this chain"),
    ] = None,
) -> None:
    """Execute the blocks with balrex and compare the execution view with the BAL view (Amsterdam blocks).

    A bench chain with a BAL in every block is executed on both cores, each block on the state its
    BALs claim. A data dir (``balrex node --datadir``) is opened read-only, so the node may keep
    running: its canonical blocks --from..--to are executed again on their parents' states.

    Also: the BAL ceiling, the pre-execution oracle's precision and recall, and balrex's measured
    split speedup per block beside the predictions: from this run with --measure-split (the bench
    chain imported on the node's split BAL path), or, given both --bench-split and --bench-whole,
    from those two import-bench runs.
    """
    counts = parse_workers(workers)
    drawn = _trace_workers(counts, trace_workers, workers)
    if (bench_split is None) != (bench_whole is None):
        _fail("--bench-split and --bench-whole go together: the measured speedup is one over the other")
    runs: MeasuredRuns | None = None
    if bench_split is not None and bench_whole is not None:
        try:
            runs = load_measured(bench_split, bench_whole)
        except MeasuredError as exc:
            _fail(str(exc))
    started = time.perf_counter()
    try:
        with _progress(Console(stderr=True)) as stage:
            views = observe_chain(
                source,
                keep_coinbase,
                only,
                on_block=stage("executing blocks"),
                blocks=BlockRange(first, last),
                genesis=genesis,
                measure_split=measure_split,
            )
    except ChainSourceError as exc:
        _fail(str(exc))
    if not views.execution:
        _fail(f"{source}: no Amsterdam block could be observed ({'; '.join(views.notes()) or 'no blocks'})")
    executed = time.perf_counter()
    execution_source, bal_source = views.sources()
    # The BAL view and the oracle's graphs in a forked process, the execution view here: both cores.
    bal_side = Beside(lambda: _bal_side(bal_source, views.oracle, counts))
    execution = build_dossier(execution_source, counts)
    ceiling = bal_ceiling(execution.graphs, counts)
    bal = bal_side.result()
    bal_conflicts = list(map(BlockConflicts, bal_source.blocks, bal.bal_masks))
    difference = compare_views(execution.graphs, bal_conflicts, views.bal_unindexed_reads)
    oracle = oracle_quality(map(BlockConflicts, views.oracle, bal.oracle_masks), execution.graphs)
    measured = None
    try:
        if runs is not None:
            measured = measured_vs_predicted(execution.graphs, runs)
        elif any(run.split is not None for run in views.runs):
            measured = measured_in_run(execution.graphs, views.runs)
    except MeasuredError as exc:
        _fail(str(exc))
    _print_summary(execution)
    typer.echo(
        f"  BAL view: {bal.fields['conflict_pair_count']} conflict pairs, {bal.fields['wave_count']} waves; "
        f"execution-only conflict pairs {difference['conflict_pairs_execution_only']}"
    )
    _print_chain_extras(ceiling, oracle, measured)
    typer.echo(
        f"  time: {time.perf_counter() - started:.1f} s: "
        f"blocks executed (observed) {views.import_seconds:.1f} s, "
        f"loading and genesis {executed - started - views.import_seconds:.1f} s, "
        f"analysis {time.perf_counter() - executed:.1f} s"
    )
    parts = chain_parts(execution, ceiling, oracle, measured)
    renderers: dict[Path | None, Callable[[], str]] = {
        json_out: lambda: (
            json.dumps(
                {
                    "source": str(source),
                    "execution": execution.fields,
                    "bal": bal.fields,
                    "difference": difference,
                    "bal_ceiling": ceiling,
                    "oracle": oracle,
                    "measured": measured,
                },
                indent=2,
            )
            + "\n"
        ),
        markdown_out: lambda: (
            render_markdown(execution)
            + "\n"
            + views_markdown(execution, bal.fields, difference)
            + "\n"
            + parts_markdown(parts)
        ),
        html_out: lambda: render_html(
            execution, appendix=views_html(execution, bal.fields, difference) + parts_html(parts)
        ),
        trace_out: lambda: json.dumps(trace_events(execution, drawn)) + "\n",
    }
    for path in write_outputs(renderers):
        typer.echo(f"wrote {path}")
