"""Fuzz the Engine API's whole HTTP door (issue #16) against a real ``balrex node`` process.

Hypothesis makes each case: an HTTP method, an Authorization header (good, missing,
wrong secret, expired, from the future, NaN iat, unsigned, garbage), a content type,
a body (requests and batches with random params and ids, batches of up to 2,500
calls, nesting up to 250,000 levels, numbers of 4,000 to 6,000 digits, garbage bytes,
valid bodies cut or spliced) and a way to send it (at once, chunked, or at 10
bytes/s). Every answer must be what the door promises: never a 5xx, never an empty
200, 401 for any bad token, JSON-RPC answers of the right shape echoing the id sent.
After the run the node must still answer, its peak RSS (VmHWM) must be under 1 GiB
and its chain must be what it was.
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from engine_harness import Node
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.blockchain import Blockchain
from client.chain_config import ChainConfig, Fork
from engine_api.errors import RpcError
from engine_api.jsonrpc import parse_json
from engine_api.methods import EngineApi
from storage import MemoryStore

pytestmark = pytest.mark.integration

BODY_TIMEOUT_S = 1.0
MAX_SLOW_CASES = 4  # each costs a body timeout; later slow cases are sent at once
SLOW_MIN_BODY = 20  # bytes: 2 s at 10 bytes/s, past the body timeout
EXAMPLES = 400
RSS_LIMIT_KB = 1024 * 1024
JSON_RPC_CODES = {-32700, -32600, -32601, -32602, -32005, -38001, -38002, -38003, -38004, -38005}
_API = EngineApi(Blockchain(MemoryStore(), ChainConfig(1, ((Fork.CANCUN, 0),))))
_API.dispatcher()
METHODS = [*_API.engine_methods, "eth_chainId", "eth_blockNumber", "eth_getBlockByNumber"]
METHODS.append("eth_getBlockByHash")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = Node(
        tmp_path_factory.mktemp("http-fuzz") / "node", None, ("--authrpc.body-timeout", str(BODY_TIMEOUT_S))
    )
    try:
        running.start()
        yield running
    finally:
        running.kill()


# -- what a case is made of ---------------------------------------------------------

hexes = st.binary(max_size=40).map(lambda raw: "0x" + raw.hex())
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
ids = st.none() | st.integers() | finite_floats | st.text(max_size=12)
leaves = st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=20) | hexes
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
requests = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]),
        "method": st.sampled_from(METHODS) | st.text(max_size=24),
    },
    optional={"id": ids, "params": st.lists(json_values, max_size=4) | json_values},
)


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def _deep(levels: int, opening: str, closed: bool) -> bytes:
    closing = {"[": "]", '{"a":': "}"}[opening]
    return (opening * levels + "1" + (closing * levels if closed else "")).encode()


def _huge_number(digits: int, exponent: bool) -> bytes:
    number = "9" * digits + ("e99999" if exponent else "")
    return f'{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[{number}]}}'.encode()


def _bodies_batch(size: int) -> bytes:
    call = {"jsonrpc": "2.0", "method": "engine_getPayloadBodiesByRangeV2", "params": ["0x0", "0x20"]}
    return _dump([call | {"id": i} for i in range(size)])


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """A valid body with a slice cut out and random bytes put in its place."""
    body = _dump(draw(requests | st.lists(requests, min_size=1, max_size=5)))
    start = draw(st.integers(0, len(body)))
    end = draw(st.integers(start, len(body)))
    return body[:start] + draw(st.binary(max_size=8)) + body[end:]


bodies = st.one_of(
    requests.map(_dump),
    st.lists(requests, max_size=120).map(_dump),
    json_values.map(_dump),
    st.builds(_deep, st.integers(1, 250_000), st.sampled_from(["[", '{"a":']), st.booleans()),
    st.builds(_huge_number, st.integers(4000, 6000), st.booleans()),
    st.integers(90, 2500).map(_bodies_batch),
    st.binary(max_size=2000),
    spliced(),
)

BAD_AUTH = ["missing", "wrong-secret", "expired", "future", "nan-iat", "unsigned", "garbage", "basic"]
BAD_AUTH += ["empty-bearer"]


@dataclass(frozen=True)
class Case:
    method: str
    auth: str
    content_type: str | None
    body: bytes
    delivery: str


cases = st.builds(
    Case,
    method=st.sampled_from(["POST"] * 8 + ["GET", "PUT"]),
    auth=st.one_of(st.just("good"), st.just("good"), st.sampled_from(BAD_AUTH)),  # 2/3 good
    content_type=st.sampled_from(
        ["application/json", "application/json", "text/plain", "application/json; charset=utf-16", None]
    )
    | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).map(str.strip),
    body=bodies,
    delivery=st.sampled_from(["whole", "whole", "whole", "chunked", "slow"]),
)


def authorization(node: Node, kind: str) -> str | None:
    now = time.time()
    signed = {
        "good": (node.secret, now),
        "wrong-secret": (bytes(b ^ 0xFF for b in node.secret), now),
        "expired": (node.secret, now - 3600),
        "future": (node.secret, now + 3600),
        "nan-iat": (node.secret, math.nan),
    }
    if kind in signed:
        secret, iat = signed[kind]
        return "Bearer " + jwt.encode({"iat": iat}, secret, algorithm="HS256")
    return {
        "missing": None,
        "unsigned": "Bearer " + jwt.encode({"iat": int(now)}, None, algorithm="none"),
        "garbage": "Bearer not.a.token",
        "basic": "Basic dXNlcjpwYXNz",
        "empty-bearer": "Bearer",
    }[kind]


# -- sending and judging --------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send_raw_slowly(node: Node, case: Case, headers: dict[str, str]) -> Answer:
    """Headers at once, then the body byte by byte at 10 bytes/s until the node answers."""
    head = f"{case.method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(case.body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    received = b""
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(head.encode("latin-1"))
        s.settimeout(0.1)
        for byte in case.body:
            try:
                s.sendall(bytes([byte]))
                received += s.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if b"\r\n\r\n" in received:
                break
        s.settimeout(5)
        try:
            while part := s.recv(65536):
                received += part
        except OSError:
            pass
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), received[:200]
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return Answer(int(lines[0].split()[1]), fields, body)


def refused_before_the_body(case: Case) -> bool:
    return case.method != "POST" or case.auth != "good"


def is_slow(case: Case, slow_budget: list[int]) -> bool:
    """Whether to send this case at 10 bytes/s: those refused before the body is read
    are answered at once, the others wait out a body timeout, so only a few of them."""
    if case.delivery != "slow" or len(case.body) < SLOW_MIN_BODY:
        return False
    return refused_before_the_body(case) or slow_budget[0] > 0


def send(node: Node, case: Case, slow_budget: list[int]) -> Answer:
    headers: dict[str, str] = {}
    token = authorization(node, case.auth)
    if token is not None:
        headers["Authorization"] = token
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if is_slow(case, slow_budget):
        slow_budget[0] -= not refused_before_the_body(case)
        return send_raw_slowly(node, case, headers)
    content: Any = case.body
    if case.delivery == "chunked":
        content = iter([case.body[i : i + 997] for i in range(0, len(case.body), 997)])
    response = node.client.request(case.method, node.url, content=content, headers=headers)
    return Answer(response.status_code, dict(response.headers), response.content)


def check_json_rpc_answer(answer: Any) -> None:
    assert isinstance(answer, dict) and answer.get("jsonrpc") == "2.0", answer
    assert "id" in answer and ("result" in answer) != ("error" in answer), answer
    if "error" in answer:
        error = answer["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert error["code"] in JSON_RPC_CODES, answer  # -32603 would be a bug in a handler


def single_request_id(body: bytes) -> tuple[bool, Any]:
    """(True, id) when the body is one JSON-RPC request object carrying an id."""
    try:
        value = parse_json(body)  # the node's own rules: no deep recursion here either
    except RpcError:
        return False, None
    if isinstance(value, dict) and "id" in value:
        request_id = value["id"]
        if isinstance(request_id, int | float | str) and not isinstance(request_id, bool):
            return True, request_id
    return False, None


def judge(case: Case, answer: Answer, slow: bool) -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])
    if answer.status >= 400:  # refused before the body was read: the connection is not reused
        assert answer.headers.get("connection") == "close", answer
    if case.method != "POST":
        assert answer.status == 405
        return
    if case.auth != "good":
        assert answer.status == 401, (case.auth, answer.status)
        return
    if slow:
        assert answer.status == 408 and answer.headers.get("connection") == "close", answer
        return
    assert answer.status in (200, 204), (answer.status, answer.body[:300])
    if answer.status == 204:
        assert answer.body == b""
        return
    assert answer.body, "a 200 always carries a JSON-RPC answer"
    decoded = json.loads(answer.body)
    for one in decoded if isinstance(decoded, list) else [decoded]:
        check_json_rpc_answer(one)
    has_id, request_id = single_request_id(case.body)
    if has_id and isinstance(decoded, dict) and decoded.get("error", {}).get("code") != -32700:
        assert decoded["id"] == request_id, (request_id, decoded)


def peak_rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB, from /proc/<pid>/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def chain_snapshot(node: Node) -> tuple[Any, ...]:
    return (
        node.rpc("eth_blockNumber"),
        node.head(),
        node.rpc("eth_getBlockByNumber", "0x0", False),
        node.rpc("eth_chainId"),
    )


def test_fuzz_the_http_door(node: Node) -> None:
    assert node.process is not None
    before = chain_snapshot(node)
    slow_budget = [MAX_SLOW_CASES]
    seen: Counter[str] = Counter()  # HTTP statuses answered, printed with the summary
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(cases)
    def one_case(case: Case) -> None:
        slow = is_slow(case, slow_budget)
        try:
            answer = send(node, case, slow_budget)
        except httpx.TransportError as exc:
            raise AssertionError(f"the node dropped the connection: {exc}\n{node.log()[-3000:]}") from None
        judge(case, answer, slow and not refused_before_the_body(case))
        seen[f"{answer.status}{' slow' if slow else ''}"] += 1
        seen["bodies over 100 kB"] += len(case.body) > 100_000
        assert node.process is not None and node.process.poll() is None, node.log()[-3000:]

    one_case()
    elapsed = time.monotonic() - started
    rss_kb, peak_kb = peak_rss_kb(node.process.pid)
    print(
        f"fuzz: {EXAMPLES} cases in {elapsed:.1f} s; RSS {rss_kb // 1024} MiB, peak {peak_kb // 1024} MiB; "
        f"{dict(seen)}"
    )
    assert node.process.poll() is None
    assert chain_snapshot(node) == before
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb} kB"
    assert "Traceback" not in node.log(), node.log()[-3000:]
