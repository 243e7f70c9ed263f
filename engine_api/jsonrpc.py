"""JSON-RPC 2.0 over one request body: single and batch requests, envelope and params checks.

A method is registered with the types of its positional params; they are
validated with pydantic (hex rules of :mod:`engine_api.models`) before the
handler runs, so a handler only ever sees well-formed values. Errors:
-32700 (body is not UTF-8 JSON, nests deeper than :data:`MAX_JSON_DEPTH`, or
holds a number Python cannot represent), -32600 (not a request object, or an
empty batch), -32601 (unknown method), -32602 (params), -32005 (a batch above
its request count, or a call past the batch's response budget), and whatever
:class:`RpcError` a handler raises (-38xxx Engine API codes).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from .errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
)
from .models import WIRE

log = logging.getLogger("balrex.rpc")

Handler = Callable[..., Awaitable[Any]]

# Engine API bodies nest about 6 levels (batch, params, payload, withdrawals, one withdrawal).
# Python's C parser recurses once per level, so an unchecked depth overflows the C stack.
MAX_JSON_DEPTH = 64
# A batch of 100 newPayloads of 1,700 transactions each holds about 200,000 values. Each value
# is a Python object of 24 to 100 bytes once parsed: 1M values is ~100 MB more than the body.
MAX_JSON_VALUES = 1_000_000
DEFAULT_MAX_BATCH = 100
DEFAULT_MAX_BATCH_RESPONSE = 32 * 1024 * 1024

_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as signed bytes
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_SCAN_CHUNK = 1 << 16


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may ask: how many requests, and how many bytes of answers before the
    remaining calls are refused unrun (each call's own limits, such as -38004, still hold)."""

    max_requests: int = DEFAULT_MAX_BATCH
    max_response_bytes: int = DEFAULT_MAX_BATCH_RESPONSE


def check_json_shape(body: bytes) -> None:
    """Refuse (-32700) a body nesting deeper than :data:`MAX_JSON_DEPTH` or holding more
    than :data:`MAX_JSON_VALUES` values, before the parser sees it.

    Every step runs in C over the raw bytes (bytes.replace/count/split/translate,
    itertools.accumulate), each linear, so no body costs more than a few passes (about
    1 s for 128 MB at worst, 35 ms for an 8 MB payload). Escapes go first (backslash
    pairs, then escaped quotes, paired left to right as in a string), so the quotes left
    are string delimiters; strings go next (a bracket in a string is text: every other
    piece between quotes is one); then every bracket is a step of +1 or -1 and the depth
    is the running sum. Where the scan and the parser could read the bytes differently
    (a backslash outside a string, an invalid escape, an unterminated string), the parser
    stops with an error there, so the depth counted is never below what it would reach.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in body else body
    if unescaped.count(b'"') > 2 * MAX_JSON_VALUES:
        raise RpcError(PARSE_ERROR, f"parse error: JSON with more than {MAX_JSON_VALUES} strings")
    outside = b"".join(unescaped.split(b'"')[::2])
    if outside.count(b"[") + outside.count(b"{") + outside.count(b",") > MAX_JSON_VALUES:
        raise RpcError(PARSE_ERROR, f"parse error: JSON with more than {MAX_JSON_VALUES} values")
    steps = memoryview(outside.translate(_BRACKET_STEPS, _NOT_A_BRACKET)).cast("b")
    depth = 0
    for start in range(0, len(steps), _SCAN_CHUNK):
        chunk = steps[start : start + _SCAN_CHUNK]
        if max(accumulate(chunk, initial=depth)) > MAX_JSON_DEPTH:
            raise RpcError(PARSE_ERROR, f"parse error: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        depth += sum(chunk)


def _parse_int(text: str) -> int:
    limit = sys.get_int_max_str_digits()
    digits = len(text) - text.startswith("-")
    if limit and digits > limit:
        raise ValueError(f"a number of {digits} digits is above the limit of {limit} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:32]} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body, or :class:`RpcError` -32700 saying why not."""
    check_json_shape(body)
    try:
        return json.loads(
            body.decode("utf-8"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise RpcError(PARSE_ERROR, f"parse error: {exc}") from None


class Request(BaseModel):
    """The request envelope; ``id`` absent means a notification (no answer).

    ``id`` is any JSON-RPC 2.0 id: a string, a number (fractional too) or null.
    """

    model_config = ConfigDict(extra="forbid")

    jsonrpc: Literal["2.0"]
    method: StrictStr
    params: list[Any] | dict[str, Any] | None = None
    id: StrictInt | StrictFloat | StrictStr | None = None


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

    async def handle_body(self, body: bytes, limits: BatchLimits = BatchLimits()) -> bytes | None:
        """The response body for a request body, or None when nothing is to be answered."""
        try:
            payload = parse_json(body)
        except RpcError as exc:
            return _dump(_error(None, exc))
        if not isinstance(payload, list):
            answer = await self.handle_one(payload)
            return None if answer is None else _dump(answer)
        if not payload:
            return _dump(_error(None, RpcError(INVALID_REQUEST, "empty batch")))
        if len(payload) > limits.max_requests:
            message = f"a batch of {len(payload)} requests is above the limit of {limits.max_requests}"
            return _dump(_error(None, RpcError(LIMIT_EXCEEDED, message + "; none was run")))
        # Each answer is encoded as soon as it is made, so the budget counts real bytes and
        # only one answer is held as Python objects at a time.
        parts: list[bytes] = []
        size = 0
        for item in payload:
            if size > limits.max_response_bytes:
                answer = _unrun(item, limits.max_response_bytes)
            else:
                answer = await self.handle_one(item)
            if answer is not None:
                parts.append(_dump(answer))
                size += len(parts[-1]) + 1
        return b"[" + b",".join(parts) + b"]" if parts else None

    async def handle_one(self, item: Any) -> dict[str, Any] | None:
        request_id = _request_id(item)
        try:
            request = Request.model_validate(item)
        except ValidationError as exc:
            return _error(request_id, RpcError(INVALID_REQUEST, "invalid request: " + _describe(exc, "")))
        notification = _is_notification(item)
        try:
            result = await self._call(request)
        except RpcError as exc:
            return None if notification else _error(request_id, exc)
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("method %s failed", request.method)
            return None if notification else _error(request_id, RpcError(INTERNAL_ERROR, repr(exc)))
        return None if notification else {"jsonrpc": "2.0", "id": request_id, "result": result}

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


def _request_id(item: Any) -> int | float | str | None:
    """The item's id as given, if it is one JSON-RPC allows (else null, as for an invalid request)."""
    request_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(request_id, int | float | str) and not isinstance(request_id, bool):
        return request_id
    return None


def _is_notification(item: Any) -> bool:
    return isinstance(item, dict) and "id" not in item


def _unrun(item: Any, budget: int) -> dict[str, Any] | None:
    """The answer to a batch call refused because the answers before it passed ``budget`` bytes."""
    if _is_notification(item):
        return None
    message = f"not run: the batch's answers before this call passed the limit of {budget} bytes"
    return _error(_request_id(item), RpcError(LIMIT_EXCEEDED, message))


def _error(request_id: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}


def _dump(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()
