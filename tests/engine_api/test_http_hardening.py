"""The Engine API's HTTP door under attack (issue #16): one test per finding.

Against one ``balrex node`` (dev genesis) with a 1 s body timeout and an 8 KiB batch
response budget, so the limits are reached with small requests. Each case checks the
answer the node gives and that it still answers afterwards with the same head. The
pure functions (the depth scan, the iat window) are checked without a node too.
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from engine_harness import Node
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_api.auth import IAT_WINDOW_S, Unauthorized, check_authorization
from engine_api.errors import RpcError
from engine_api.jsonrpc import MAX_JSON_DEPTH, MAX_JSON_VALUES, check_json_shape

BODY_TIMEOUT_S = 1.0
BATCH_RESPONSE_BUDGET = 8192
SECRET = b"\x07" * 32


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    running = Node(
        tmp_path_factory.mktemp("http-hardening") / "node",
        None,
        (
            "--authrpc.body-timeout",
            str(BODY_TIMEOUT_S),
            "--authrpc.max-batch-response",
            str(BATCH_RESPONSE_BUDGET),
        ),
    )
    try:
        running.start()
        yield running
    finally:
        running.kill()


@pytest.fixture
def alive(node: Node) -> Iterator[None]:
    """After the case: the process runs, answers, and its head has not moved."""
    before = node.head()
    yield
    assert node.process is not None and node.process.poll() is None, node.log()[-2000:]
    assert node.rpc("eth_blockNumber") == before["number"]
    assert node.head() == before


def request(method: str, *params: Any, request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}


def answer_of(node: Node, body: Any = None, content: bytes | None = None) -> Any:
    response = node.post(body, content=content)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return response.json()


# -- nesting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(b"[", b"]"), (b'{"a":', b"}")],
    ids=["arrays", "objects"],
)
def test_200000_levels_are_refused_before_parsing(
    node: Node, alive: None, opening: bytes, closing: bytes
) -> None:
    # The body that crashed the node with SIGSEGV (400 kB, 200,000 levels).
    answer = answer_of(node, content=opening * 200_000 + b"1" + closing * 200_000)
    assert answer["error"]["code"] == -32700
    assert f"deeper than {MAX_JSON_DEPTH} levels" in answer["error"]["message"]


def test_deep_params_inside_a_request_are_refused(node: Node, alive: None) -> None:
    head = b'{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":'
    answer = answer_of(node, content=head + b"[" * 100 + b"]" * 100 + b"}")
    assert answer["error"]["code"] == -32700 and answer["id"] is None


@pytest.mark.parametrize(("levels", "code"), [(MAX_JSON_DEPTH, -32602), (MAX_JSON_DEPTH + 1, -32700)])
def test_the_depth_limit_is_exact(node: Node, alive: None, levels: int, code: int) -> None:
    # Batch (1), request object (2), params (3), then lists down to ``levels``.
    nested: Any = []
    for _ in range(levels - 4):
        nested = [nested]
    answer = answer_of(node, [request("eth_chainId", nested)])
    # At the limit the body is parsed (eth_chainId takes no params: -32602); one more is -32700.
    assert (answer[0] if isinstance(answer, list) else answer)["error"]["code"] == code


def test_the_node_runs_with_py_evms_recursion_limit(node: Node) -> None:
    assert "recursion limit 12288" in node.log()


def _parser_depth(text: str) -> int:
    """The deepest nesting the parser reaches: 0 for a scalar, the true depth for valid JSON."""

    def depth(value: Any) -> int:
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        return 0

    return depth(json.loads(text))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\ab'), children, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, database=None)
@given(json_values)
def test_depth_scan_agrees_with_the_parser(value: Any) -> None:
    # Strings full of brackets, quotes and backslashes: the scan must see through them.
    text = json.dumps(value)
    refused = _parser_depth(text) > MAX_JSON_DEPTH
    try:
        check_json_shape(text.encode())
    except RpcError:
        assert refused, text
    else:
        assert not refused, text


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet='[]{}"\\ab,:0 ', max_size=60), st.integers(MAX_JSON_DEPTH + 1, 3 * MAX_JSON_DEPTH))
def test_depth_scan_is_never_fooled_by_garbage_before_deep_nesting(prefix: str, levels: int) -> None:
    # Whatever text precedes the brackets, a body the scan lets through must stop the
    # parser before it gets deep: its error is in the prefix or the first 64 brackets.
    body = prefix + "[" * levels
    try:
        check_json_shape(body.encode())
    except RpcError:
        return
    with pytest.raises(json.JSONDecodeError) as stopped:
        json.loads(body)
    assert stopped.value.pos < len(prefix) + MAX_JSON_DEPTH, (body, stopped.value)


def test_too_many_values_are_refused() -> None:
    with pytest.raises(RpcError) as refused:
        check_json_shape(b"[" + b"1," * MAX_JSON_VALUES + b"1]")
    assert refused.value.code == -32700 and f"more than {MAX_JSON_VALUES} values" in refused.value.message


# -- numbers and ids ------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "reason"),
    [(b"1" * 5000, b"5000 digits"), (b"-" + b"9" * 4301, b"4301 digits"), (b"1e400", b"out of range")],
    ids=["5000-digits", "negative-4301-digits", "1e400"],
)
def test_numbers_python_cannot_hold_are_32700(node: Node, alive: None, number: bytes, reason: bytes) -> None:
    content = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[' + number + b"]}"
    response = node.post(content=content)
    assert response.status_code == 200 and response.content
    answer = response.json()
    assert answer["error"]["code"] == -32700
    assert reason.decode() in answer["error"]["message"]


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_constants_are_32700(node: Node, alive: None, constant: bytes) -> None:
    content = b'{"jsonrpc":"2.0","id":' + constant + b',"method":"eth_chainId"}'
    assert answer_of(node, content=content)["error"]["code"] == -32700


@pytest.mark.parametrize("request_id", [1.5, -0.25, "abc", "", None, 0, 10**80], ids=repr)
def test_any_json_rpc_id_is_echoed(node: Node, alive: None, request_id: Any) -> None:
    answer = answer_of(node, request("eth_chainId", request_id=request_id))
    assert answer == {"jsonrpc": "2.0", "id": request_id, "result": "0x539"}


def test_fractional_id_is_echoed_in_its_own_spelling(node: Node, alive: None) -> None:
    content = b'{"jsonrpc":"2.0","id":1.5,"method":"eth_chainId"}'
    assert b'"id":1.5,' in node.post(content=content).content


@pytest.mark.parametrize("request_id", [True, [1], {"a": 1}], ids=repr)
def test_ids_json_rpc_forbids_are_32600_with_null_id(node: Node, alive: None, request_id: Any) -> None:
    answer = answer_of(node, request("eth_chainId", request_id=request_id))
    assert answer["error"]["code"] == -32600 and answer["id"] is None


# -- batches ----------------------------------------------------------------------


def test_batch_of_100_is_served(node: Node, alive: None) -> None:
    answers = answer_of(node, [request("eth_chainId", request_id=i) for i in range(100)])
    assert [a["id"] for a in answers] == list(range(100))
    assert {a["result"] for a in answers} == {"0x539"}


def test_batch_of_101_is_refused_whole(node: Node, alive: None) -> None:
    answer = answer_of(node, [request("eth_chainId", request_id=i) for i in range(101)])
    assert isinstance(answer, dict), "one error for the whole batch, not 101 answers"
    assert answer["error"]["code"] == -32005 and answer["id"] is None
    assert "101 requests" in answer["error"]["message"] and "limit of 100" in answer["error"]["message"]


def test_getpayloadbodies_batch_of_2000_is_refused_at_once(node: Node, alive: None) -> None:
    # The batch that made a 2.39 GB answer in 58 s.
    batch = [request("engine_getPayloadBodiesByRangeV2", "0x1", "0x20", request_id=i) for i in range(2000)]
    started = time.monotonic()
    answer = answer_of(node, batch)
    assert answer["error"]["code"] == -32005
    assert time.monotonic() - started < 5


def _size(answer: dict[str, Any]) -> int:
    """Bytes of one answer in the batch's response, its comma included."""
    return len(json.dumps(answer, separators=(",", ":"))) + 1


def test_batch_past_its_response_budget_refuses_the_rest_unrun(node: Node, alive: None) -> None:
    batch = [request("eth_getBlockByNumber", "latest", False, request_id=i) for i in range(40)]
    answers = answer_of(node, batch)
    assert [a["id"] for a in answers] == list(range(40)), "every call is answered, in order"
    served = [a for a in answers if "result" in a]
    refused = answers[len(served) :]
    assert served and refused, "the budget is reached within the batch"
    assert all(a["error"]["code"] == -32005 for a in refused)
    assert f"limit of {BATCH_RESPONSE_BUDGET} bytes" in refused[0]["error"]["message"]
    # A call runs while the answers before it are within the budget: the one that
    # crosses it is answered in full, none after it runs.
    assert sum(map(_size, served[:-1])) <= BATCH_RESPONSE_BUDGET < sum(map(_size, served))


def test_notifications_past_the_budget_get_no_answer(node: Node, alive: None) -> None:
    calls = [request("eth_getBlockByNumber", "latest", False, request_id=i) for i in range(40)]
    notification = {"jsonrpc": "2.0", "method": "eth_chainId"}
    answers = answer_of(node, [*calls, notification, notification])
    assert len(answers) == 40 and answers[-1]["error"]["code"] == -32005


# -- slow bodies -------------------------------------------------------------------


def test_slow_body_is_cut_off_with_408(node: Node, alive: None) -> None:
    body = json.dumps(request("eth_chainId")).encode()
    token = node.headers()["Authorization"]
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    timeouts_before = node.log().count("body not complete after")
    started = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(head)
        s.settimeout(0.1)
        for byte in body:  # 10 bytes/s, as in the finding
            try:
                s.sendall(bytes([byte]))
                part = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            received += part
            if not part or b"\r\n\r\n" in received:
                break
        s.settimeout(5)
        try:
            while part := s.recv(65536):
                received += part
        except OSError:
            pass  # closed by the node: the point of the test
    elapsed = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408"), received[:200]
    assert b"connection: close" in received.lower()
    assert BODY_TIMEOUT_S <= elapsed < BODY_TIMEOUT_S + 3, elapsed
    deadline = time.monotonic() + 5
    while node.log().count("body not complete after") == timeouts_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"body timeouts: {timeouts_before + 1}" in node.log()


def test_body_sent_at_once_is_not_affected(node: Node, alive: None) -> None:
    assert node.rpc("eth_chainId") == "0x539"


# -- JWT iat --------------------------------------------------------------------------


def _token(iat: float) -> bytes:
    return b"Bearer " + jwt.encode({"iat": iat}, SECRET, algorithm="HS256").encode()


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.999])
def test_iat_window_is_inclusive_in_whole_seconds(fraction: float) -> None:
    now = 1_700_000_000 + fraction
    for offset in (-IAT_WINDOW_S, 0, IAT_WINDOW_S):
        check_authorization(_token(1_700_000_000 + offset), SECRET, now=now)
    for offset in (-IAT_WINDOW_S - 1, IAT_WINDOW_S + 1):
        with pytest.raises(Unauthorized, match="stale token"):
            check_authorization(_token(1_700_000_000 + offset), SECRET, now=now)


@pytest.mark.parametrize("iat", [math.nan, math.inf, -math.inf], ids=repr)
def test_non_finite_iat_is_refused(iat: float) -> None:
    with pytest.raises(Unauthorized, match="finite"):
        check_authorization(_token(iat), SECRET, now=1_700_000_000)


def _at_the_start_of_a_second() -> int:
    """Now, in whole seconds, with most of that second still ahead (so a request sent at
    once is checked within the same second)."""
    while time.time() % 1 > 0.3:
        time.sleep(0.05)
    return int(time.time())


def test_iat_exactly_60_s_old_is_accepted_61_refused(node: Node, alive: None) -> None:
    now = _at_the_start_of_a_second()
    accepted = node.post(request("eth_chainId"), headers=node.headers(iat=now - 60))
    assert accepted.status_code == 200 and accepted.json()["result"] == "0x539"
    now = _at_the_start_of_a_second()
    assert node.post(request("eth_chainId"), headers=node.headers(iat=now - 61)).status_code == 401


def test_iat_60_s_ahead_is_accepted_61_refused(node: Node, alive: None) -> None:
    now = _at_the_start_of_a_second()
    assert node.post(request("eth_chainId"), headers=node.headers(iat=now + 60)).status_code == 200
    now = _at_the_start_of_a_second()
    assert node.post(request("eth_chainId"), headers=node.headers(iat=now + 61)).status_code == 401


# -- capabilities ------------------------------------------------------------------------


def test_exchange_capabilities_lists_what_is_served_but_not_itself(node: Node, alive: None) -> None:
    capabilities = node.rpc("engine_exchangeCapabilities", ["engine_getInclusionListV1"])
    assert "engine_exchangeCapabilities" not in capabilities
    assert len(set(capabilities)) == len(capabilities)
    assert {"engine_newPayloadV5", "engine_forkchoiceUpdatedV4", "engine_getClientVersionV1"} <= set(
        capabilities
    )
    assert "engine_getInclusionListV1" not in capabilities  # asked for by the CL, not served here
    # Every name listed is a method the node serves: called without params, it is -32602, not -32601.
    batch = [request(name, request_id=i) for i, name in enumerate(capabilities)]
    for answer in answer_of(node, batch):
        assert answer["error"]["code"] == -32602, (capabilities[answer["id"]], answer)
