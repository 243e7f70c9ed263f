"""``make bench-cores``: how much slower the EVM runs on each core when both cores run it.

The BAL path splits a block's work over two cores, so its best possible wall
time is the streaming path's over two *if a core runs as fast with the other
core busy as it does alone*. Two processes executing transactions at once
share the last-level cache and the memory bus (on a virtual machine, with
other tenants too), so each may run slower than one alone. That slowdown puts
a floor under the import-bench ratio BAL path / streaming: ``slowdown / 2``,
before the BAL path's own extra work and idle time. (Measured here in session
26: slowdowns of 0.98-1.05, so a floor of 0.49-0.525; the host's own noise
moved single rounds by more.)

This script measures it on the real workload, not a synthetic loop, whose
working set is far smaller than the interpreter's running the EVM:

1. the bench chain's blocks but the last are imported on the streaming path
   into a temporary RocksDB data dir;
2. two worker processes, pinned to cores 0 and 1, each with its own secondary
   handle, execute the last block on its parent state (prepare, then execution
   with its BAL checked, as the node's process does) ``--iterations`` times;
3. in every round each worker runs alone in turn (*solo*, their mean: a virtual
   machine's two cores need not be equally fast) and then both at once
   (*pair*), or the other way round in every other round (``rounds.alternation``);
4. each run gives the median thread CPU per transaction over its iterations
   (the first :data:`WARMUP_ITERATIONS` left out); the summary is the min and
   median of the solo and of the pair figures, each round's slowdown (pair
   over solo), their min and median, and the floor ``median slowdown / 2``,
   printed and written as JSON.

Run as ``python -m client.tools.import_bench.two_cores [--chain DIR] [--rounds N] ...``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from bal.rlp_codec import decode_bal, encode_bal
from client.blockchain import Blockchain
from client.chain_config import ChainConfig
from client.genesis import build_genesis
from client.tools.bench_chain import load_chain
from pipeline import import_block_sync
from pipeline.cores import available_cores
from pipeline.processes import WorkerProcess
from pipeline.state_source import StateSource
from storage import RocksStore
from storage.rocks import Follower

from .rounds import alternation, ratio, spread

#: Executions of the block left out of each run's median: the first reads fill the caches.
WARMUP_ITERATIONS = 3
DEFAULT_ROUNDS = 4
DEFAULT_ITERATIONS = 30
SOLO, PAIR = "solo", "pair"


class TwoCoresError(RuntimeError):
    """The measurement cannot be made (fewer than two cores, a chain without BALs)."""


@dataclass(frozen=True)
class ExecuteRequest:
    """Execute ``block_rlp`` on its stored parent's state ``iterations`` times, checked against its BAL."""

    db_path: str
    config: ChainConfig
    block_rlp: bytes
    bal_rlp: bytes
    iterations: int


class BlockExecutor:
    """The probe's worker handler (``pipeline.processes.Handler``): per-transaction CPU of each execution."""

    def __init__(self) -> None:
        self.follower = Follower("balrex-two-cores-")

    def handle(self, request: object) -> list[float]:
        """The thread CPU milliseconds per transaction of every execution, in order."""
        if not isinstance(request, ExecuteRequest):
            raise TypeError(f"unknown request {type(request).__name__}")
        store = self.follower.store_for(request.db_path)
        chain = Blockchain(store, request.config)
        bal = decode_bal(request.bal_rlp)
        per_transaction: list[float] = []
        for _ in range(request.iterations):
            prepared = chain.prepare(request.block_rlp, bal, None)
            source = StateSource(
                store,
                prepared.outline.parent_state_root,
                parent_has_flat_state=prepared.parent_has_flat_state,
            )
            started = time.thread_time()
            chain.execute(prepared, source, with_deltas=False, given=bal)
            spent_ms = 1000 * (time.thread_time() - started)
            per_transaction.append(spent_ms / max(1, prepared.transaction_count))
        return per_transaction

    def open(self, db_path: str) -> None:
        self.follower.store_for(db_path)

    def catch_up(self, db_path: str) -> None:
        """Nothing changes under the probe's handles once they are open."""

    def close(self) -> None:
        self.follower.close()


def run_median(per_transaction: Sequence[float]) -> float:
    """A run's figure: the median over its executions after the warm-up ones."""
    measured = per_transaction[WARMUP_ITERATIONS:] or per_transaction
    return statistics.median(measured)


def summarize(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Min and median of the solo and the pair runs, the slowdowns, and the ratio floor.

    ``rounds[i]`` holds ``"solo"`` (the mean ms/transaction of the workers run
    one at a time) and ``"pair"`` (one figure per worker, run at once). A
    round's slowdown is its pair's mean over its solo figure, runs made back
    to back (the machine drifts between rounds);
    the floor is the median of those over two: the BAL path / streaming ratio
    if the BAL path split all the streaming path's work over both cores at no
    cost of its own and never left a core idle.
    """
    solo = spread([float(made[SOLO]) for made in rounds])
    pair = spread([float(figure) for made in rounds for figure in made[PAIR]])
    per_round = [ratio(statistics.mean(made[PAIR]), float(made[SOLO])) for made in rounds]
    known = [value for value in per_round if value is not None]
    slowdown = spread(known) if known else None
    return {
        "solo_ms_per_tx": solo,
        "pair_ms_per_tx": pair,
        "slowdown": {**(slowdown or {}), "per_round": per_round},
        "bal_over_streaming_floor": None if slowdown is None else slowdown["median"] / 2,
    }


def format_summary(summary: dict[str, Any], rounds: Sequence[dict[str, Any]]) -> str:
    solo, pair = summary["solo_ms_per_tx"], summary["pair_ms_per_tx"]
    each_solo = ", ".join(f"{made[SOLO]:.3f}" for made in rounds)
    each_pair = ", ".join("/".join(f"{figure:.3f}" for figure in made[PAIR]) for made in rounds)
    lines = [
        f"{'':12} {'min':>8} {'median':>8}   each round (ms of CPU per transaction)",
        f"{'each alone':12} {solo['min']:8.3f} {solo['median']:8.3f}   {each_solo}",
        f"{'both at once':12} {pair['min']:8.3f} {pair['median']:8.3f}   {each_pair}",
    ]
    slowdown = summary["slowdown"]
    each = ", ".join(_figure(value) for value in slowdown["per_round"])
    lines.append(
        f"slowdown with both cores busy (pair over solo, each round): "
        f"min {_figure(slowdown.get('min'))}, median {_figure(slowdown.get('median'))}   {each}"
    )
    lines.append(
        f"floor of import-bench's BAL path / streaming on two cores (median slowdown / 2): "
        f"{_figure(summary['bal_over_streaming_floor'])}"
    )
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@dataclass(frozen=True)
class Options:
    chain: Path
    rounds: int
    iterations: int
    json_path: Path | None


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m client.tools.import_bench.two_cores",
        description="How much slower each core executes a block while the other core executes it too.",
    )
    parser.add_argument(
        "--chain",
        type=Path,
        default=Path("bench-out/amsterdam-50x200-seed1"),
        help="an Amsterdam bench chain",
    )
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="solo and pair runs (default 4)")
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        help=f"executions of the block per run (default {DEFAULT_ITERATIONS})",
    )
    parser.add_argument("--json", dest="json_path", type=Path, help="write the rounds and the summary here")
    args = parser.parse_args(list(argv))
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    if args.iterations <= WARMUP_ITERATIONS:
        parser.error(f"--iterations must be more than the {WARMUP_ITERATIONS} warm-up ones")
    return Options(args.chain, args.rounds, args.iterations, args.json_path)


def prepare_store(chain_dir: Path, data_dir: Path, iterations: int) -> tuple[ExecuteRequest, int]:
    """Import every block of the chain but the last; the request that executes the last, and its number."""
    chain = load_chain(chain_dir)
    last_bal = chain.bals[-1] if chain.bals else None
    if len(chain.blocks) < 2 or last_bal is None:
        raise TwoCoresError(f"{chain_dir}: needs an Amsterdam bench chain of two blocks or more (with BALs)")
    genesis = build_genesis(chain.genesis)
    store = RocksStore(data_dir)
    try:
        blockchain = Blockchain(store, chain.config)
        blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
        for block_rlp in chain.blocks[:-1]:
            imported = import_block_sync(blockchain, block_rlp)
            blockchain.set_forkchoice(imported.block_hash)
    finally:
        store.close()
    request = ExecuteRequest(str(data_dir), chain.config, chain.blocks[-1], encode_bal(last_bal), iterations)
    return request, len(chain.blocks)


async def measure(
    request: ExecuteRequest,
    order: Sequence[tuple[str, int]],
    on_round: Callable[[int, dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """The solo and pair runs of ``request`` in ``order`` (``rounds.alternation``), on two workers
    pinned to the first two cores; ``on_round`` is told each round once both its runs are made."""
    cores = sorted(available_cores())
    if len(cores) < 2:
        raise TwoCoresError("needs two cores this process may run on")
    workers = [
        WorkerProcess(f"balrex-two-cores-{core}", BlockExecutor, cores=frozenset({core}))
        for core in cores[:2]
    ]
    try:
        for worker in workers:
            worker.open_store(request.db_path)
            worker.wait_ready()
        rounds: list[dict[str, Any]] = [{} for _ in range(max(number for _, number in order))]
        for kind, number in order:
            made = rounds[number - 1]
            if kind == SOLO:
                # Each core alone in turn: a virtual machine's cores need not be equally fast.
                made[SOLO] = statistics.mean([run_median(await _ask(worker, request)) for worker in workers])
            else:
                made[PAIR] = await _ask_both(workers, request)
            if SOLO in made and PAIR in made:
                on_round(number, made)
        return rounds
    finally:
        for worker in workers:
            worker.stop()


async def _ask_both(workers: Sequence[WorkerProcess], request: ExecuteRequest) -> list[float]:
    """Both workers' run figures, their runs made at the same time."""
    figures = [0.0] * len(workers)

    async def ask(index: int) -> None:
        figures[index] = run_median(await _ask(workers[index], request))

    async with trio.open_nursery() as nursery:
        for index in range(len(workers)):
            nursery.start_soon(ask, index)
    return figures


async def _ask(worker: WorkerProcess, request: ExecuteRequest) -> list[float]:
    answer = await worker.request(request)
    if not isinstance(answer, list):
        raise TwoCoresError(f"{worker.name} answered {type(answer).__name__}")
    return [float(value) for value in answer]


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    order = alternation((SOLO, PAIR), options.rounds)
    try:
        with tempfile.TemporaryDirectory(prefix="balrex-two-cores-") as directory:
            print(f"importing {options.chain} but its last block (streaming path)", flush=True)
            request, number = prepare_store(options.chain, Path(directory) / "chaindata", options.iterations)
            print(
                f"executing block {number} {options.iterations} times a run, "
                f"{options.rounds} rounds of one worker alone and two at once",
                flush=True,
            )

            def on_round(index: int, made: dict[str, Any]) -> None:
                pair = "/".join(f"{figure:.3f}" for figure in made[PAIR])
                print(
                    f"round {index}: alone {made[SOLO]:.3f}, both {pair} ms of CPU per transaction",
                    flush=True,
                )

            rounds = trio.run(measure, request, order, on_round)
    except (TwoCoresError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = summarize(rounds)
    print(format_summary(summary, rounds))
    if options.json_path is not None:
        report = {
            "chain": str(options.chain),
            "block": number,
            "iterations": options.iterations,
            "warmup_iterations": WARMUP_ITERATIONS,
            "order": [f"{kind}-{round_number}" for kind, round_number in order],
            "rounds": rounds,
            **summary,
        }
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {options.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
