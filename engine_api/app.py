"""The ASGI application: JWT check, bounded body read, JSON-RPC dispatch. No web framework.

Order per request: only ``POST`` (405 otherwise); the ``Authorization``
header is checked before any of the body is read (401); a declared
``Content-Length`` above the limit is refused at once, and a body that grows
past the limit while being read is refused as soon as it does (413, the rest
is never read); a body not complete within the body timeout (plus a second per
MiB received) is refused (408, the connection closed: a slow sender cannot hold
it open); then the body goes
to the dispatcher, with the batch limits. Whatever fails past that point is
still answered in JSON-RPC (-32603), never with an empty HTTP 500.

Hypercorn's keep-alive timeout already closes a connection whose request
headers do not arrive in time; the body timeout covers the rest.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from typing import Any

import trio

from .auth import Unauthorized, check_authorization
from .errors import INTERNAL_ERROR
from .jsonrpc import DEFAULT_MAX_BATCH, DEFAULT_MAX_BATCH_RESPONSE, BatchLimits, Dispatcher

log = logging.getLogger("balrex.http")

DEFAULT_MAX_BODY = 128 * 1024 * 1024  # geth's Engine API limit; a payload at 36M gas fits easily
# A 36M-gas payload is a few MB: well under a second on any link a consensus client uses.
DEFAULT_BODY_TIMEOUT = 5.0
# Each MiB received buys one more second, so a large body is not cut off (this node reads
# 120 MiB from localhost in ~11 s on a busy machine) while a trickle still is.
MIN_BODY_RATE = 1024 * 1024

Scope = dict[str, Any]


@dataclass(frozen=True)
class HttpLimits:
    """The limits of the Engine API's HTTP door (``balrex node --authrpc.*`` options)."""

    max_body: int = DEFAULT_MAX_BODY
    max_batch: int = DEFAULT_MAX_BATCH
    max_batch_response: int = DEFAULT_MAX_BATCH_RESPONSE
    body_timeout: float = DEFAULT_BODY_TIMEOUT

    @property
    def batch(self) -> BatchLimits:
        return BatchLimits(self.max_batch, self.max_batch_response)


DEFAULT_LIMITS = HttpLimits()


def limit_recursion() -> int:
    """Set the interpreter's recursion limit back to py-evm's own (12,288); the limit set.

    py_ecc raises it to 100,000 when imported (py_ecc/__init__.py). The C JSON parser
    then recurses far past what an 8 MB C stack holds (it crashed with SIGSEGV at 80,000
    levels). py-evm needs 12,288 for 1024 nested EVM calls (measured: about 5,100 Python
    frames at call depth 1024). :func:`engine_api.jsonrpc.check_json_shape` is the guard
    for request bodies; this keeps any other deep structure from reaching the C stack.
    py_ecc is imported first, so a later import cannot raise the limit again.
    """
    import py_ecc  # noqa: F401
    from eth import EVM_RECURSION_LIMIT

    sys.setrecursionlimit(EVM_RECURSION_LIMIT)
    return EVM_RECURSION_LIMIT


class BodyTooLarge(Exception):
    """The body's declared or received size is above ``max_body``."""


class BodyTimeout(Exception):
    """The body did not arrive in time (``body_timeout`` plus a second per MiB received)."""


class EngineApp:
    def __init__(self, dispatcher: Dispatcher, secret: bytes, limits: HttpLimits = DEFAULT_LIMITS) -> None:
        self.dispatcher = dispatcher
        self.secret = secret
        self.limits = limits
        # Bodies refused for arriving too slowly since start-up (logged with each refusal).
        self.body_timeouts = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        if scope["method"] != "POST":
            await _refuse(send, 405, "only POST is served", [(b"allow", b"POST")])
            return
        try:
            check_authorization(headers.get(b"authorization"), self.secret)
        except Unauthorized as exc:
            log.warning("refused request from %s: %s", _client(scope), exc)
            await _refuse(send, 401, str(exc))
            return
        try:
            body = await self._read_body(headers.get(b"content-length"), receive)
        except BodyTooLarge as exc:
            log.warning("refused request from %s: %s", _client(scope), exc)
            await _refuse(send, 413, str(exc))
            return
        except BodyTimeout as exc:
            self.body_timeouts += 1
            log.warning(
                "refused request from %s: %s (body timeouts: %d)", _client(scope), exc, self.body_timeouts
            )
            await _refuse(send, 408, str(exc))
            return
        except ValueError as exc:
            await _refuse(send, 400, str(exc))
            return
        try:
            answer = await self.dispatcher.handle_body(body, self.limits.batch)
        except Exception as exc:  # a bug: still a JSON-RPC answer, logged, and the node keeps serving
            log.exception("request from %s failed", _client(scope))
            error = {"code": INTERNAL_ERROR, "message": f"internal error: {exc!r}"}
            answer = json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()
            await _send(send, 200, answer, [(b"content-type", b"application/json")])
            return
        if answer is None:
            await _send(send, 204, b"", [])
        else:
            await _send(send, 200, answer, [(b"content-type", b"application/json")])

    async def _read_body(self, content_length: bytes | None, receive: Any) -> bytes:
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                raise ValueError("Content-Length is not a number") from None
            if declared > self.limits.max_body:
                raise BodyTooLarge(
                    f"Content-Length {declared} is above the limit of {self.limits.max_body} bytes"
                )
        chunks: list[bytes] = []
        size = 0
        started = trio.current_time()
        with trio.CancelScope(deadline=started + self.limits.body_timeout) as in_time:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ValueError("client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limits.max_body:
                    raise BodyTooLarge(f"body is above the limit of {self.limits.max_body} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
                in_time.deadline = started + self.limits.body_timeout + size / MIN_BODY_RATE
        waited = trio.current_time() - started
        raise BodyTimeout(f"request body not complete after {waited:.1f} s ({size} bytes received)")

    @staticmethod
    async def _lifespan(receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "?"


async def _refuse(
    send: Any, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An HTTP error, answered before the body was read in full, so the connection closes
    after it: the rest of the body may still be on its way, and a client that reused the
    connection would send its next request to a server that has already hung up."""
    headers = [(b"content-type", b"application/json"), (b"connection", b"close"), *(extra or [])]
    await _send(send, status, json.dumps({"error": message}).encode(), headers)


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
