"""The ``balrex`` command line.

It offers the BAL tools (decode, check and re-encode a block access list) and
``balrex node`` (the Engine API server, logic in :mod:`client.node`). The
import-bench and bench-chain commands join it as their issues land.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer

from bal import (
    BalError,
    bal_from_engine_hex,
    bal_from_json,
    bal_hash,
    bal_to_engine_hex,
    bal_to_json,
    validate_structure,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="balrex: BAL-aware block validation.")
bal_app = typer.Typer(no_args_is_help=True, help="Inspect and convert EIP-7928 block access lists.")
app.add_typer(bal_app, name="bal")


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


def _check(bal, tx_count: int | None, gas_limit: int | None) -> None:  # type: ignore[no-untyped-def]
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


@app.command()
def node(
    datadir: Annotated[Path, typer.Option("--datadir", help="data directory")] = _DEFAULT_DATADIR,
    authrpc_addr: Annotated[str, typer.Option("--authrpc.addr", help="Engine API address")] = "127.0.0.1",
    authrpc_port: Annotated[int, typer.Option("--authrpc.port", help="Engine API port")] = 8551,
    authrpc_jwtsecret: Annotated[
        Path | None,
        typer.Option("--authrpc.jwtsecret", help="JWT secret file (hex); default <datadir>/jwt.hex"),
    ] = None,
    genesis: Annotated[
        Path | None,
        typer.Option("--genesis", help="geth-style genesis JSON; default: dev genesis"),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--authrpc.max-body", help="largest request body accepted, bytes (else HTTP 413)")
    ] = 128 * 1024 * 1024,
) -> None:
    """Run the node: the Engine API (JSON-RPC over HTTP, JWT auth) over the RocksDB store."""
    from engine_api.auth import JwtSecretError

    from .chain_config import UnsupportedChainConfig
    from .node import NodeError, run_node

    try:
        run_node(datadir, authrpc_addr, authrpc_port, authrpc_jwtsecret, genesis, max_body)
    except (NodeError, JwtSecretError, UnsupportedChainConfig, OSError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C before the server was up (once up, it shuts down cleanly)
        raise typer.Exit(code=130) from None
