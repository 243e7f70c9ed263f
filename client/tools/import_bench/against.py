"""``make bench-against REV=<revision>``: this checkout's import-bench against another revision's.

A single ``make bench`` ratio moves by several percent from run to run on a
shared machine, so "is this change faster?" needs both sides measured the same
way, on the same chain, at the same time. This script:

1. resolves ``REV`` (a clear error if git does not know it) and checks it out
   with ``git worktree add --detach`` into ``bench-out/against-<rev>/`` (ignored);
2. installs it into its own ``.venv`` with *its own* Makefile (``make install``),
   so each side runs its own code and its own dependency pins;
3. imports the bench chain this checkout generated, with ``balrex import-bench
   --compare`` (streaming path, then BAL path), alternating the sides and
   which one goes first (this, REV, REV, this, this, REV, ...) so a slow
   phase of the machine, or a slower second run of a pair, hits both alike;
   if REV cannot read the chain, REV's own ``bench-chain`` generates it with
   the shape recorded in ``chain.json`` (the summary says whether the bytes differ);
4. prints min and median wall time of each side and path, the ratios
   (BAL / streaming per side, this / REV per path), and the median number of
   cores each side's BAL path kept busy (import-bench's ``cores_busy``; a
   revision older than that field has none), and writes them as JSON;
5. removes the worktree (``--keep`` leaves it, with its ``.venv``, for a next run).

Run as ``python -m client.tools.import_bench.against REV [--runs N] ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rounds import alternation, median_known, ratio, spread

THIS = "this"
REV = "rev"
SIDES = (THIS, REV)
#: the two import paths ``import-bench --compare`` runs on an Amsterdam chain, by their JSON run key
PATHS = {"bal": "with_bal", "streaming": "baseline"}
MIN_RUNS = 1
DEFAULT_RUNS = 3
OUTPUT_TAIL_LINES = 15


class AgainstError(RuntimeError):
    """The comparison cannot be made (unknown revision, a side fails to install or to import)."""


@dataclass(frozen=True)
class Options:
    revision: str
    runs: int
    chain: Path
    out: Path
    json_path: Path | None
    keep: bool


def parse_args(argv: Sequence[str]) -> Options:
    """Command-line options; ``--runs`` must be at least 1 (3 or more to say anything about noise)."""
    parser = argparse.ArgumentParser(
        prog="python -m client.tools.import_bench.against",
        description="Alternate import-bench runs of this checkout and of REV on one bench chain.",
    )
    parser.add_argument("revision", metavar="REV", help="a git revision (hash, tag, branch)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="runs per side (default 3)")
    parser.add_argument(
        "--chain", type=Path, default=Path("bench-out/amsterdam-50x200-seed1"), help="bench-chain folder"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-out"), help="folder for worktree and runs")
    parser.add_argument(
        "--json", dest="json_path", type=Path, help="summary JSON (default OUT/against-REV.json)"
    )
    parser.add_argument("--keep", action="store_true", help="keep REV's worktree and .venv for a next run")
    args = parser.parse_args(list(argv))
    if not args.revision.strip():
        parser.error("REV is empty: give a git revision, e.g. make bench-against REV=b3342ac")
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}, not {args.runs}")
    return Options(args.revision.strip(), args.runs, args.chain, args.out, args.json_path, args.keep)


def summarize(
    walls: dict[str, dict[str, list[float]]], cores: dict[str, list[float | None]] | None = None
) -> dict[str, Any]:
    """Min/median per side and path; BAL / streaming per side; this / REV per path (each by min and median);
    the median cores busy of each side's BAL runs.

    ``walls[side][path]`` lists the wall seconds of every run, ``path`` being ``"bal"`` or ``"streaming"``;
    ``cores[side]`` the BAL runs' ``cores_busy`` (None for a run that did not record it).
    """
    stats = {side: {path: spread(walls[side][path]) for path in PATHS} for side in SIDES}
    return {
        "wall_s": {
            side: {path: {"runs": walls[side][path], **stats[side][path]} for path in PATHS} for side in SIDES
        },
        "bal_over_streaming": {
            side: {
                stat: ratio(stats[side]["bal"][stat], stats[side]["streaming"][stat])
                for stat in ("min", "median")
            }
            for side in SIDES
        },
        "this_over_rev": {
            path: {stat: ratio(stats[THIS][path][stat], stats[REV][path][stat]) for stat in ("min", "median")}
            for path in PATHS
        },
        "bal_cores_busy": {side: median_known((cores or {}).get(side, [])) for side in SIDES},
    }


def format_summary(revision: str, summary: dict[str, Any]) -> str:
    """The printed table: one line per side and path, then the ratios."""
    names = {THIS: "this checkout", REV: revision}
    width = max(map(len, names.values()))
    lines = [f"{'':>{width + 10}} {'min s':>8} {'median s':>9}   runs"]
    for side in SIDES:
        for path in PATHS:
            cell = summary["wall_s"][side][path]
            runs = ", ".join(f"{wall:.3f}" for wall in cell["runs"])
            lines.append(
                f"{names[side]:>{width}} {path:>9} {cell['min']:8.3f} {cell['median']:9.3f}   {runs}"
            )

    def pair(ratios: dict[str, float | None]) -> str:
        return "  ".join(
            f"{stat} {'—' if value is None else f'{value:.3f}'}" for stat, value in ratios.items()
        )

    for side in SIDES:
        lines.append(f"BAL / streaming, {names[side]}: {pair(summary['bal_over_streaming'][side])}")
    for path in PATHS:
        lines.append(f"this / {revision}, {path} path: {pair(summary['this_over_rev'][path])}")
    busy = summary.get("bal_cores_busy", {})
    lines.append(
        "cores busy on the BAL path (median): "
        + ", ".join(
            f"{names[side]} {'—' if busy.get(side) is None else f'{busy[side]:.2f}'}" for side in SIDES
        )
    )
    return "\n".join(lines)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AgainstError(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def resolve_revision(repo: Path, revision: str) -> str:
    """The full commit hash of ``revision``; AgainstError naming it when git does not know it."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except AgainstError:
        raise AgainstError(f"unknown revision {revision!r}: git rev-parse finds no such commit") from None


def tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-OUTPUT_TAIL_LINES:])


def checkout_environment() -> dict[str, str]:
    """This process's environment without the keccak backend this checkout chose for itself.

    ``client.keccak_backend`` exports ``ETH_HASH_BACKEND`` so that our own worker
    processes inherit it; another revision may not have that backend installed,
    and each checkout picks its own.
    """
    return {name: value for name, value in os.environ.items() if name != "ETH_HASH_BACKEND"}


def run_logged(command: Sequence[str], cwd: Path, log: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd``, its output saved to ``log`` (import-bench draws progress bars)."""
    result = subprocess.run(
        list(command), cwd=cwd, env=checkout_environment(), capture_output=True, text=True, check=False
    )
    log.write_text(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return result


@dataclass
class Worktree:
    """REV checked out beside this one, installed into its own virtualenv; removed by :meth:`remove`."""

    repo: Path
    commit: str
    path: Path

    def add(self) -> None:
        if self.path.exists():
            # A kept (or interrupted) earlier run: reuse it if it holds the same commit.
            head = git(self.path, "rev-parse", "HEAD") if (self.path / ".git").exists() else ""
            if head == self.commit:
                return
            self.remove()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        git(self.repo, "worktree", "add", "--detach", str(self.path), self.commit)

    def install(self, log: Path) -> None:
        result = run_logged(["make", "install"], self.path, log)
        if result.returncode != 0:
            raise AgainstError(f"make install failed in {self.path} (log {log}):\n{tail(result.stderr)}")

    @property
    def balrex(self) -> Path:
        return self.path / ".venv" / "bin" / "balrex"

    def remove(self) -> None:
        subprocess.run(
            ["git", "-C", str(self.repo), "worktree", "remove", "--force", str(self.path)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.path, ignore_errors=True)
        subprocess.run(["git", "-C", str(self.repo), "worktree", "prune"], capture_output=True, check=False)


@dataclass
class Side:
    """One side of the comparison: where its code is, its balrex, and the chain it imports."""

    name: str
    root: Path
    balrex: Path
    chain: Path
    walls: dict[str, list[float]] = field(default_factory=lambda: {path: [] for path in PATHS})
    #: the machine's 1-minute load average as each run started (the machine is shared: context for noise)
    loads: list[float] = field(default_factory=list)
    #: each BAL run's ``cores_busy`` (None where the side's import-bench does not record it)
    cores: list[float | None] = field(default_factory=list)


def bench_walls(report: dict[str, Any]) -> dict[str, float]:
    """Wall seconds of the BAL and the streaming run of one ``import-bench --compare`` JSON."""
    try:
        return {path: float(report["runs"][key]["summary"]["wall_s"]) for path, key in PATHS.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise AgainstError(f"the import-bench JSON lacks a run's summary.wall_s ({exc!r})") from None


def bench_cores_busy(report: dict[str, Any]) -> float | None:
    """The BAL run's ``cores_busy`` in one ``import-bench --compare`` JSON; None if it has none."""
    value = report.get("runs", {}).get(PATHS["bal"], {}).get("summary", {}).get("cores_busy")
    return float(value) if isinstance(value, int | float) else None


def import_bench(side: Side, number: int, out: Path) -> subprocess.CompletedProcess[str]:
    json_path = out / f"run-{side.name}-{number}.json"
    command = [
        str(side.balrex),
        "import-bench",
        str(side.chain.resolve()),
        "--compare",
        "--json",
        str(json_path),
    ]
    return run_logged(command, side.root, out / f"run-{side.name}-{number}.log")


def regenerate_chain(side: Side, chain: Path, out: Path) -> Path:
    """REV's own ``bench-chain`` with the shape recorded in this checkout's ``chain.json``."""
    meta = json.loads((chain / "chain.json").read_text())
    target = out / f"chain-{side.name}"
    shutil.rmtree(target, ignore_errors=True)
    command = [str(side.balrex), "bench-chain", "--fork", str(meta["fork"]), "--blocks", str(meta["blocks"])]
    command += [
        "--txs-per-block",
        str(meta["txs_per_block"]),
        "--seed",
        str(meta["seed"]),
        "--out",
        str(target),
    ]
    if "accounts" in meta:
        command += ["--accounts", str(meta["accounts"])]
    result = run_logged(command, side.root, out / f"bench-chain-{side.name}.log")
    if result.returncode != 0:
        raise AgainstError(
            f"{side.name} cannot read this chain, and its bench-chain failed:\n{tail(result.stderr)}"
        )
    return target


def same_chain_files(first: Path, second: Path) -> bool:
    """Whether two bench chains hold the same files (the sha256s their chain.json records agree)."""
    hashes = [json.loads((chain / "chain.json").read_text()).get("files") for chain in (first, second)]
    return hashes[0] is not None and hashes[0] == hashes[1]


def measure(
    sides: dict[str, Side],
    runs: int,
    out: Path,
    on_run: Callable[[str], None],
) -> bool:
    """Make the alternated runs; returns whether REV imported its own regenerated chain."""
    regenerated = False
    for name, number in alternation(SIDES, runs):
        side = sides[name]
        started = time.perf_counter()
        side.loads.append(os.getloadavg()[0])
        result = import_bench(side, number, out)
        if result.returncode != 0 and name == REV and not regenerated and number == 1:
            side.chain = regenerate_chain(side, sides[THIS].chain, out)
            regenerated = True
            result = import_bench(side, number, out)
        if result.returncode != 0:
            log = out / f"run-{name}-{number}.log"
            raise AgainstError(f"import-bench of {name} failed (log {log}):\n{tail(result.stderr)}")
        report = json.loads((out / f"run-{name}-{number}.json").read_text())
        walls = bench_walls(report)
        for path, wall in walls.items():
            side.walls[path].append(wall)
        side.cores.append(bench_cores_busy(report))
        busy = "" if side.cores[-1] is None else f" ({side.cores[-1]:.2f} cores busy)"
        on_run(
            f"run {number}/{runs} {name:>4}: BAL {walls['bal']:.3f} s{busy}, "
            f"streaming {walls['streaming']:.3f} s "
            f"({time.perf_counter() - started:.0f} s with start-up, load {side.loads[-1]:.1f} at start)"
        )
    return regenerated


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))
    try:
        commit = resolve_revision(repo, options.revision)
        if not (options.chain / "chain.json").is_file():
            raise AgainstError(f"{options.chain}: no bench chain (chain.json); make bench generates it")
        label = commit[:10]
        out = (options.out / f"against-{label}").resolve()
        runs_out = out / "runs"
        worktree = Worktree(repo, commit, out / "checkout")
        try:
            print(f"checking out {options.revision} ({label}) into {worktree.path}", flush=True)
            worktree.add()
            shutil.rmtree(runs_out, ignore_errors=True)
            runs_out.mkdir(parents=True)
            print("installing it into its own .venv (make install)", flush=True)
            worktree.install(runs_out / "install.log")
            sides = {
                THIS: Side(THIS, repo, Path(sys.executable).parent / "balrex", options.chain),
                REV: Side(REV, worktree.path, worktree.balrex, options.chain),
            }
            regenerated = measure(sides, options.runs, runs_out, lambda line: print(line, flush=True))
        finally:
            if not options.keep:
                worktree.remove()
    except AgainstError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = summarize(
        {name: side.walls for name, side in sides.items()}, {name: side.cores for name, side in sides.items()}
    )
    report = {
        "this": {"commit": git(repo, "rev-parse", "HEAD"), "dirty": bool(git(repo, "status", "--porcelain"))},
        "rev": {"revision": options.revision, "commit": commit},
        "chain": str(options.chain),
        "rev_chain": str(sides[REV].chain),
        "rev_regenerated_chain": regenerated,
        "same_chain_bytes": not regenerated or same_chain_files(options.chain, sides[REV].chain),
        "runs_per_side": options.runs,
        "order": [f"{side}-{number}" for side, number in alternation(SIDES, options.runs)],
        "load_1min_at_start": {name: side.loads for name, side in sides.items()},
        **summary,
    }
    json_path = options.json_path or options.out / f"against-{label}.json"
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(format_summary(options.revision, summary))
    print(f"wrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
