"""The ``balrex`` command line.

It offers the BAL tools (decode, check and re-encode a block access list),
``balrex node`` (the Engine API server, logic in :mod:`engine_api.node`),
``balrex jwt`` (a bearer token for the node's secret, :mod:`engine_api.auth`),
``balrex payloads`` (a chain as Engine API requests, :mod:`client.tools.payloads`),
``balrex bench-chain`` (a deterministic benchmark chain, :mod:`client.tools.bench_chain`)
and ``balrex import-bench`` (the stage-timed import, :mod:`client.tools.import_bench`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer

from bal import (
    BalError,
    BlockAccessList,
    bal_from_engine_hex,
    bal_from_json,
    bal_hash,
    bal_to_engine_hex,
    bal_to_json,
    validate_structure,
)

from .tools.bench_chain import BenchChainError
from .tools.bench_chain.world import DEFAULT_ACCOUNTS
from .tools.dossier.cli import dossier_app
from .txpool import PoolLimits

app = typer.Typer(no_args_is_help=True, add_completion=False, help="balrex: BAL-aware block validation.")
bal_app = typer.Typer(no_args_is_help=True, help="Inspect and convert EIP-7928 block access lists.")
app.add_typer(bal_app, name="bal")
app.add_typer(dossier_app, name="dossier")


def _read_source(source: str) -> str:
    """A literal value, a file path, or '-' for standard input."""
    if source == "-":
        return sys.stdin.read().strip()
    path = Path(source)
    if not source.startswith(("0x", "[")) and path.is_file():
        return path.read_text().strip()
    return source.strip()


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _check(bal: BlockAccessList, tx_count: int | None, gas_limit: int | None) -> None:
    try:
        validate_structure(bal, tx_count=tx_count, gas_limit=gas_limit)
    except BalError as exc:
        _fail(str(exc))


@app.command()
def version() -> None:
    """Print the balrex version."""
    typer.echo(f"balrex {package_version('balrex')}")


@bal_app.command("decode")
def bal_decode(
    source: str = typer.Argument(..., help="RLP hex (0x...), a file holding it, or - for stdin"),
    tx_count: int | None = typer.Option(None, help="bound blockAccessIndex to 0..tx_count+1"),
    gas_limit: int | None = typer.Option(None, help="bound the item count by gas_limit/2000"),
) -> None:
    """Decode a BAL from RLP hex, validate it, print fixture-style JSON and its hash."""
    try:
        bal = bal_from_engine_hex(_read_source(source))
    except BalError as exc:
        _fail(str(exc))
    _check(bal, tx_count, gas_limit)
    result = {"hash": "0x" + bal_hash(bal).hex(), "blockAccessList": bal_to_json(bal)}
    typer.echo(json.dumps(result, indent=2))


@bal_app.command("encode")
def bal_encode(
    source: str = typer.Argument(..., help="fixture-style JSON array, a file holding it, or - for stdin"),
    tx_count: int | None = typer.Option(None, help="bound blockAccessIndex to 0..tx_count+1"),
    gas_limit: int | None = typer.Option(None, help="bound the item count by gas_limit/2000"),
) -> None:
    """Encode fixture-style BAL JSON to RLP hex (the engine_newPayloadV5 form) and print its hash."""
    try:
        bal = bal_from_json(json.loads(_read_source(source)))
    except json.JSONDecodeError as exc:
        _fail(f"not JSON: {exc}")
    except BalError as exc:
        _fail(str(exc))
    _check(bal, tx_count, gas_limit)
    typer.echo(json.dumps({"hash": "0x" + bal_hash(bal).hex(), "rlp": bal_to_engine_hex(bal)}, indent=2))


_DEFAULT_DATADIR = Path("data")
DEFAULT_POOL = PoolLimits()
_PIN_CORES_HELP = "BAL path: run the node's process and the later-part worker on a core each (Linux)"


# The node's JWT secret file, under the name geth and reth give it (``balrex node``, ``balrex jwt``).
JwtSecretFile = Annotated[
    Path | None,
    typer.Option("--authrpc.jwtsecret", help="JWT secret file (hex); default <datadir>/jwt.hex"),
]


@app.command()
def node(
    datadir: Annotated[Path, typer.Option("--datadir", help="data directory")] = _DEFAULT_DATADIR,
    authrpc_addr: Annotated[str, typer.Option("--authrpc.addr", help="Engine API address")] = "127.0.0.1",
    authrpc_port: Annotated[int, typer.Option("--authrpc.port", help="Engine API port")] = 8551,
    authrpc_jwtsecret: JwtSecretFile = None,
    genesis: Annotated[
        Path | None,
        typer.Option("--genesis", help="geth-style genesis JSON; default: dev genesis"),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--authrpc.max-body", help="largest request body accepted, bytes (else HTTP 413)")
    ] = 128 * 1024 * 1024,
    max_batch: Annotated[
        int, typer.Option("--authrpc.max-batch", min=1, help="most requests in one JSON-RPC batch")
    ] = 100,
    max_batch_response: Annotated[
        int,
        typer.Option(
            "--authrpc.max-batch-response",
            min=1,
            help="bytes of answers a batch may produce; later calls are refused unrun",
        ),
    ] = 32 * 1024 * 1024,
    body_timeout: Annotated[
        float,
        typer.Option(
            "--authrpc.body-timeout",
            min=0.1,
            help="seconds to receive a request body, plus 1 s per MiB received (else 408)",
        ),
    ] = 5.0,
    http: Annotated[
        bool, typer.Option("--http/--no-http", help="serve the eth_ methods, no auth (default off, as geth)")
    ] = False,
    http_addr: Annotated[str, typer.Option("--http.addr", help="address of the --http server")] = "127.0.0.1",
    http_port: Annotated[int, typer.Option("--http.port", help="port of the --http server")] = 8545,
    txpool_max: Annotated[
        int, typer.Option("--txpool.max", min=1, help="most transactions the pool holds")
    ] = DEFAULT_POOL.max_count,
    txpool_max_bytes: Annotated[
        int, typer.Option("--txpool.max-bytes", min=1, help="most bytes the pool holds (blobs included)")
    ] = DEFAULT_POOL.max_bytes,
    pin_cores: Annotated[bool, typer.Option("--pin-cores/--no-pin-cores", help=_PIN_CORES_HELP)] = True,
) -> None:
    """Run the node: the Engine API (JSON-RPC over HTTP, JWT auth) over the RocksDB store.

    With ``--http``, also the ``eth_`` methods a wallet uses (and the pool) on a second port.
    """
    from engine_api.app import HttpLimits
    from engine_api.auth import JwtSecretError
    from engine_api.node import NodeError, run_node
    from engine_api.public_server import PublicRpcOptions

    from .chain_config import UnsupportedChainConfig

    try:
        limits = HttpLimits(max_body, max_batch, max_batch_response, body_timeout)
        pool = replace(DEFAULT_POOL, max_count=txpool_max, max_bytes=txpool_max_bytes)
        public = PublicRpcOptions(http_addr, http_port, pool, limits) if http else None
        run_node(
            datadir,
            authrpc_addr,
            authrpc_port,
            authrpc_jwtsecret,
            genesis,
            limits,
            public,
            pin_cores=pin_cores,
        )
    except (NodeError, JwtSecretError, UnsupportedChainConfig, OSError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C before the server was up (once up, it shuts down cleanly)
        raise typer.Exit(code=130) from None


def _secret_path(datadir: Path, jwtsecret: Path | None) -> Path:
    """The JWT secret file ``balrex node`` uses: ``--authrpc.jwtsecret``, else ``<datadir>/jwt.hex``."""
    return jwtsecret if jwtsecret is not None else datadir / "jwt.hex"


@app.command()
def jwt(
    datadir: Annotated[Path, typer.Option("--datadir", help="data directory")] = _DEFAULT_DATADIR,
    authrpc_jwtsecret: JwtSecretFile = None,
) -> None:
    """Print a bearer token for the node's JWT secret (HS256, iat now, valid for about a minute)."""
    from engine_api.auth import JwtSecretError, make_token, read_secret

    try:
        secret = read_secret(_secret_path(datadir, authrpc_jwtsecret))
    except JwtSecretError as exc:
        _fail(f"{exc} (start the node once to create it, or give --authrpc.jwtsecret)")
    typer.echo(make_token(secret))


@app.command()
def payloads(
    source: Annotated[Path, typer.Argument(help="a bench chain folder or an EF blockchain_test JSON file")],
    out: Annotated[Path | None, typer.Option("--out", help="write the requests to this file")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json (one array) or jsonl (one request a line)")
    ] = "json",
    send: Annotated[
        str | None, typer.Option("--send", help="POST them in order to this Engine API URL")
    ] = None,
    authrpc_jwtsecret: Annotated[
        Path | None,
        # JwtSecretFile's name; --jwt-secret, this command's first name for it, still works.
        typer.Option(
            "--authrpc.jwtsecret", "--jwt-secret", help="JWT secret file for --send; default data/jwt.hex"
        ),
    ] = None,
) -> None:
    """A chain as Engine API requests: each block's newPayload (V3/V4/V5 by fork), then forkchoiceUpdated."""
    from .tools.payloads import (
        PayloadSourceError,
        SendError,
        engine_requests,
        send_requests,
        source_blocks,
        write_requests,
    )

    if output_format not in ("json", "jsonl"):
        _fail(f"--format {output_format}: use json or jsonl")
    if out is None and send is None:
        _fail("give --out FILE, --send URL, or both")
    try:
        blocks = list(source_blocks(source))
    except PayloadSourceError as exc:
        _fail(str(exc))
    for block in blocks:
        if not block.payload.requests_match:
            typer.secho(
                f"warning: {block.label} commits to execution requests (EIP-7685) the source does not "
                "carry; the node will compute another block hash",
                fg=typer.colors.YELLOW,
                err=True,
            )
    requests = list(engine_requests(blocks))
    if out is not None:
        write_requests(requests, out, jsonl=output_format == "jsonl")
        typer.echo(f"wrote {len(requests)} requests for {len(blocks)} blocks to {out}")
    if send is not None:
        from engine_api.auth import JwtSecretError, make_token, read_secret

        try:
            secret = read_secret(_secret_path(_DEFAULT_DATADIR, authrpc_jwtsecret))
        except JwtSecretError as exc:
            _fail(str(exc))
        try:
            for request, answer in send_requests(requests, send, lambda: make_token(secret)):
                result = answer["result"]
                status = result.get("status") or result.get("payloadStatus", {}).get("status")
                typer.echo(f"{request['id']} {request['method']} {status}")
        except SendError as exc:
            _fail(str(exc))


@app.command("bench-chain")
def bench_chain(
    out: Annotated[Path, typer.Option("--out", help="directory to write (empty, new, or a bench chain)")],
    fork: Annotated[str, typer.Option("--fork", help="amsterdam (with BALs) or prague")] = "amsterdam",
    blocks: Annotated[int, typer.Option("--blocks", help="number of blocks after genesis")] = 50,
    txs_per_block: Annotated[int, typer.Option("--txs-per-block", help="transactions per block")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same files")] = 1,
    accounts: Annotated[
        int, typer.Option("--accounts", help="funded EOAs in genesis (token slots scale with it)")
    ] = DEFAULT_ACCOUNTS,
    amsterdam_at: Annotated[
        int | None,
        typer.Option(
            "--amsterdam-at",
            help="--fork amsterdam: start in BPO2 and cross into Amsterdam at this block number",
        ),
    ] = None,
) -> None:
    """Generate a deterministic chain with a mainnet-like mix for the import benchmark."""
    from .tools.bench_chain.generate import ChainSettings, generate_chain

    settings = ChainSettings(fork, blocks, txs_per_block, seed, accounts, amsterdam_at)
    try:
        metadata = generate_chain(settings, out)
    except BenchChainError as exc:
        _fail(str(exc))
    typer.echo(
        f"bench-chain: {metadata['blocks']} blocks, {metadata['blocks'] * metadata['txs_per_block']} txs, "
        f"{metadata['total_gas']} gas, fork {metadata['fork']}, written to {out}"
    )


@app.command("import-bench")
def import_bench(
    chain: Annotated[Path, typer.Argument(help="a bench chain directory (from balrex bench-chain)")],
    with_bal: Annotated[bool, typer.Option("--with-bal", help="import on the BAL path")] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="baseline then BAL path (Prague: baseline then py-evm)")
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="write every metric to this file")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write the visual report (.html or .svg)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="merkleizer worker processes (default: cores - 1)")
    ] = None,
    parallel: Annotated[
        bool,
        typer.Option(
            "--parallel/--no-parallel",
            help="BAL path: run each block's later transactions in a worker process (EIP-7928)",
        ),
    ] = True,
    pin_cores: Annotated[bool, typer.Option("--pin-cores/--no-pin-cores", help=_PIN_CORES_HELP)] = True,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            min=1,
            help="make the runs this many times, alternated; report min, median and ratios",
        ),
    ] = 1,
) -> None:
    """Import a bench chain into a fresh RocksDB data dir and print the stage table (pipeline.md §5)."""
    from rich.console import Console

    from .tools.bench_chain import load_chain
    from .tools.import_bench.bench import ImportBenchError, import_bench, plan_runs, write_outputs

    if report is not None and report.suffix.lower() not in (".html", ".htm", ".svg"):
        _fail(f"--report {report}: use a .html, .htm or .svg file name")
    try:
        loaded = load_chain(chain)
        runs = plan_runs(loaded, with_bal=with_bal, compare=compare)
    except (BenchChainError, ImportBenchError) as exc:
        _fail(str(exc))
    result = import_bench(
        loaded,
        chain,
        runs,
        workers=workers,
        console=Console(stderr=False),
        parallel=parallel,
        pin_cores=pin_cores,
        rounds=rounds,
    )
    write_outputs(result, json_out, report)
    for path in (json_out, report):
        if path is not None:
            typer.echo(f"wrote {path}")


# -- balrex dev: a private chain with its own block producer; balrex export ------------------

dev_app = typer.Typer(
    invoke_without_command=True,
    help="A one-command private chain: the node, a block producer each slot, funded dev accounts.",
)
app.add_typer(dev_app, name="dev")


@dev_app.callback()
def dev(
    ctx: typer.Context,
    datadir: Annotated[Path, typer.Option("--datadir", help="data directory")] = Path("dev-data"),
    fork: Annotated[str, typer.Option("--fork", help="cancun, prague, osaka or amsterdam (from genesis)")] = (
        "amsterdam"
    ),
    slot_time: Annotated[float, typer.Option("--slot-time", min=0.2, help="seconds between blocks")] = 2.0,
    authrpc_port: Annotated[int, typer.Option("--authrpc.port", help="Engine API port")] = 8551,
    http_addr: Annotated[str, typer.Option("--http.addr", help="address of the eth_ server")] = "127.0.0.1",
    http_port: Annotated[int, typer.Option("--http.port", help="port of the eth_ server")] = 8545,
    fee_recipient: Annotated[
        str | None, typer.Option("--fee-recipient", help="address paid the tips (default: dev account 0)")
    ] = None,
) -> None:
    """Run a private chain: `balrex node` with --http, and a producer calling its Engine API every slot."""
    if ctx.invoked_subcommand is not None:
        return
    from engine_api.auth import JwtSecretError
    from engine_api.dev import DevProducerOptions
    from engine_api.node import NodeError, run_node
    from engine_api.public_server import PublicRpcOptions

    from .chain_config import Fork, UnsupportedChainConfig
    from .dev_chain import DEV_FORKS, dev_accounts, dev_banner, dev_genesis_for

    if fork not in DEV_FORKS:
        _fail(f"--fork {fork}: choose one of {', '.join(DEV_FORKS)}")
    accounts = dev_accounts()
    recipient = accounts[0].address if fee_recipient is None else _address(fee_recipient)
    genesis_path = datadir / "genesis.json"
    try:
        datadir.mkdir(parents=True, exist_ok=True)
        genesis_path.write_text(json.dumps(dev_genesis_for(Fork(fork)), indent=1) + "\n")
        typer.echo(dev_banner(Fork(fork), datadir, slot_time, authrpc_port, http_addr, http_port))
        public = PublicRpcOptions(http_addr, http_port)
        producer = DevProducerOptions(recipient, slot_time)
        run_node(datadir, "127.0.0.1", authrpc_port, None, genesis_path, public=public, producer=producer)
    except (NodeError, JwtSecretError, UnsupportedChainConfig, OSError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None


def _address(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 20:
        _fail(f"{text!r} is not a 20-byte hex address")
    return raw


@dev_app.command("tx")
def dev_tx(
    to: Annotated[str, typer.Option("--to", help="recipient address")],
    value: Annotated[int, typer.Option("--value", min=0, help="wei to send")],
    sender: Annotated[int, typer.Option("--from", min=0, max=3, help="dev account number (0..3)")] = 0,
    rpc: Annotated[str, typer.Option("--rpc", help="the dev node's eth_ server")] = "http://127.0.0.1:8545",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait for the receipt and print it")] = True,
) -> None:
    """Send a transfer signed by a dev account (eth_sendRawTransaction) and print its hash and receipt."""
    import httpx

    from .dev_chain import DevRpcError, dev_accounts, send_transfer

    try:
        receipt = send_transfer(rpc, dev_accounts()[sender], _address(to), value, wait=wait)
    except (DevRpcError, httpx.HTTPError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps(receipt, indent=2))


@dev_app.command("load")
def dev_load(
    txs: Annotated[
        int, typer.Option("--txs", min=1, help="transactions to send, the setup's included")
    ] = 2_000,
    min_blocks: Annotated[
        int, typer.Option("--min-blocks", min=3, help="spread them over (at least) this many blocks")
    ] = 50,
    senders: Annotated[
        int, typer.Option("--senders", min=1, help="load accounts funded by the dev accounts")
    ] = 8,
    rpc: Annotated[str, typer.Option("--rpc", help="the dev node's eth_ server")] = "http://127.0.0.1:8545",
    timeout: Annotated[float, typer.Option("--timeout", help="give up after this many seconds")] = 1_800.0,
) -> None:
    """Send thousands of transactions of several kinds to a running `balrex dev`; print what was mined."""
    import httpx

    from .dev_chain import DevRpcError
    from .tools.dev_load import LoadSettings, run_load

    try:
        report = run_load(rpc, LoadSettings(txs, min_blocks, senders, timeout))
    except (DevRpcError, httpx.HTTPError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps(report.to_json(), indent=2))


@app.command("export")
def export(
    datadir: Annotated[Path, typer.Argument(help="a stopped node's data directory")],
    out: Annotated[Path, typer.Option("--out", help="directory to write (empty, new, or a bench chain)")],
    genesis: Annotated[
        Path | None,
        typer.Option("--genesis", help="the data dir's genesis (default: <datadir>/genesis.json, else dev)"),
    ] = None,
) -> None:
    """Write a node's canonical chain as a bench chain (genesis.json, blocks.rlp, bals.rlp, chain.json)."""
    from storage import RocksStore

    from .genesis import DatadirGenesisError, datadir_genesis_json
    from .tools.export_chain import ExportError, export_chain

    try:
        genesis_dict = datadir_genesis_json(datadir, genesis)
    except DatadirGenesisError as exc:
        _fail(str(exc))
    if not (datadir / "chaindata").is_dir():
        _fail(f"{datadir} holds no chaindata")
    try:
        store = RocksStore(datadir / "chaindata")
    except Exception as exc:  # RocksDB refuses a data dir a running node holds (its lock)
        _fail(f"cannot open {datadir / 'chaindata'} (is the node still running?): {exc}")
    try:
        metadata = export_chain(store, genesis_dict, out)
    except ExportError as exc:
        _fail(str(exc))
    finally:
        store.close()
    summary = f"{metadata['blocks']} blocks, {metadata['txs']} txs, fork {metadata['fork']}"
    typer.echo(f"export: {summary}, written to {out}")
