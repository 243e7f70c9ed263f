"""JSON-RPC 2.0 over one request body: single and batch requests, envelope and params checks.

A method is registered with the types of its positional params; they are
validated with pydantic (hex rules of :mod:`engine_api.models`) before the
handler runs, so a handler only ever sees well-formed values. Errors:
-32700 (body is not JSON), -32600 (not a request object, or an empty batch),
-32601 (unknown method), -32602 (params), and whatever :class:`RpcError` a
handler raises (-38xxx Engine API codes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, TypeAdapter, ValidationError

from .errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
)
from .models import WIRE

log = logging.getLogger("balrex.rpc")

Handler = Callable[..., Awaitable[Any]]


class Request(BaseModel):
    """The request envelope; ``id`` absent means a notification (no answer)."""

    model_config = ConfigDict(extra="forbid")

    jsonrpc: Literal["2.0"]
    method: StrictStr
    params: list[Any] | dict[str, Any] | None = None
    id: StrictInt | StrictStr | None = None


@dataclass(frozen=True)
class Param:
    name: str
    type: Any
    required: bool = True
    adapter: TypeAdapter[Any] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "adapter", TypeAdapter(self.type))


@dataclass(frozen=True)
class Method:
    handler: Handler
    params: tuple[Param, ...] = ()


def _describe(exc: ValidationError, name: str) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in (name, *error["loc"]))
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class Dispatcher:
    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def register(self, name: str, handler: Handler, *params: Param) -> None:
        self.methods[name] = Method(handler, params)

    async def handle_body(self, body: bytes) -> bytes | None:
        """The response body for a request body, or None when nothing is to be answered."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _dump(_error(None, RpcError(PARSE_ERROR, f"parse error: {exc}")))
        if isinstance(payload, list):
            if not payload:
                return _dump(_error(None, RpcError(INVALID_REQUEST, "empty batch")))
            answers = [await self.handle_one(item) for item in payload]
            answered = [a for a in answers if a is not None]
            return _dump(answered) if answered else None
        answer = await self.handle_one(payload)
        return None if answer is None else _dump(answer)

    async def handle_one(self, item: Any) -> dict[str, Any] | None:
        request_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            request_id = None
        try:
            request = Request.model_validate(item)
        except ValidationError as exc:
            return _error(request_id, RpcError(INVALID_REQUEST, "invalid request: " + _describe(exc, "")))
        notification = isinstance(item, dict) and "id" not in item
        try:
            result = await self._call(request)
        except RpcError as exc:
            return None if notification else _error(request.id, exc)
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("method %s failed", request.method)
            return None if notification else _error(request.id, RpcError(INTERNAL_ERROR, repr(exc)))
        return None if notification else {"jsonrpc": "2.0", "id": request.id, "result": result}

    async def _call(self, request: Request) -> Any:
        method = self.methods.get(request.method)
        if method is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {request.method} does not exist/is not available")
        raw = request.params if request.params is not None else []
        if not isinstance(raw, list):
            raise RpcError(INVALID_PARAMS, "params must be an array (positional)")
        if len(raw) > len(method.params):
            raise RpcError(INVALID_PARAMS, f"too many params: {len(raw)} > {len(method.params)}")
        values = []
        for index, param in enumerate(method.params):
            if index >= len(raw):
                if param.required:
                    raise RpcError(INVALID_PARAMS, f"missing param {index}: {param.name}")
                values.append(None)
                continue
            try:
                values.append(param.adapter.validate_python(raw[index], context=WIRE))
            except ValidationError as exc:
                raise RpcError(INVALID_PARAMS, "invalid params: " + _describe(exc, param.name)) from None
        return await method.handler(*values)


def _error(request_id: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}


def _dump(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()
