"""The public JSON-RPC door (``--http``): the Engine API's HTTP door without JWT.

Everything else of the Engine API's door holds here too (POST only, body size
limit, body timeout, batch limits, JSON-RPC errors for whatever fails). The
door is :class:`~engine_api.app.EngineApp` itself, given a secret of this
process's own that no client knows: each request is handed to it with a
fresh token made from that secret, so the one check the public port must not
make passes, and nothing of the door is written twice.
"""

from __future__ import annotations

import secrets
from typing import Any

from .app import DEFAULT_LIMITS, EngineApp, HttpLimits, Scope
from .auth import make_token
from .jsonrpc import Dispatcher


class PublicApp:
    def __init__(self, dispatcher: Dispatcher, limits: HttpLimits = DEFAULT_LIMITS) -> None:
        self._secret = secrets.token_bytes(32)
        self.door = EngineApp(dispatcher, self._secret, limits)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            token = b"Bearer " + make_token(self._secret).encode()
            headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", token)]}
        await self.door(scope, receive, send)
