"""The ASGI application: JWT check, bounded body read, JSON-RPC dispatch. No web framework.

Order per request: only ``POST`` (405 otherwise); the ``Authorization``
header is checked before any of the body is read (401); a declared
``Content-Length`` above the limit is refused at once, and a body that grows
past the limit while being read is refused as soon as it does (413, the rest
is never read); then the body goes to the dispatcher.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .auth import Unauthorized, check_authorization
from .jsonrpc import Dispatcher

log = logging.getLogger("balrex.http")

DEFAULT_MAX_BODY = 128 * 1024 * 1024  # geth's Engine API limit; a payload at 36M gas fits easily

Scope = dict[str, Any]


class BodyTooLarge(Exception):
    pass


class EngineApp:
    def __init__(self, dispatcher: Dispatcher, secret: bytes, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.dispatcher = dispatcher
        self.secret = secret
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "only POST is served"}, [(b"allow", b"POST")])
            return
        try:
            check_authorization(headers.get(b"authorization"), self.secret)
        except Unauthorized as exc:
            log.warning("refused request from %s: %s", _client(scope), exc)
            await _respond(send, 401, {"error": str(exc)})
            return
        try:
            body = await self._read_body(headers.get(b"content-length"), receive)
        except BodyTooLarge as exc:
            log.warning("refused request from %s: %s", _client(scope), exc)
            await _respond(send, 413, {"error": str(exc)})
            return
        except ValueError as exc:
            await _respond(send, 400, {"error": str(exc)})
            return
        answer = await self.dispatcher.handle_body(body)
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
            if declared > self.max_body:
                raise BodyTooLarge(f"Content-Length {declared} is above the limit of {self.max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ValueError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge(f"body is above the limit of {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

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


async def _respond(
    send: Any, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), *(extra or [])]
    await _send(send, status, json.dumps(body).encode(), headers)


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
