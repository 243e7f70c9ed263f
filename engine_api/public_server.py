"""The public JSON-RPC server (``balrex node --http``): the ``eth_`` methods on their own port, no JWT.

It shares the Engine API's :class:`~engine_api.methods.EngineApi` (the chain,
the import lock, the transaction pool) and stops when ``stop`` is set (the
node sets it once the Engine API server has stopped on SIGINT/SIGTERM).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from client.txpool import PoolLimits

from .app import DEFAULT_LIMITS, HttpLimits
from .methods import EngineApi
from .public_app import PublicApp

DEFAULT_HTTP_ADDR = "127.0.0.1"
DEFAULT_HTTP_PORT = 8545


@dataclass(frozen=True)
class PublicRpcOptions:
    """``--http.*`` and ``--txpool.*``: where the public server listens and the pool's bounds."""

    host: str = DEFAULT_HTTP_ADDR
    port: int = DEFAULT_HTTP_PORT
    pool: PoolLimits = PoolLimits()
    limits: HttpLimits = DEFAULT_LIMITS


async def serve_public_api(
    api: EngineApi,
    options: PublicRpcOptions,
    stop: trio.Event,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    config = Config()
    config.bind = [f"{options.host}:{options.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 2.0
    app = PublicApp(api.public_dispatcher(), options.limits)
    await serve(app, config, shutdown_trigger=stop.wait, task_status=task_status)  # type: ignore[arg-type]
