"""Blocks as the Engine API requests a consensus client would send: ``balrex payloads``.

A block's RLP becomes the params of ``engine_newPayloadV3/V4/V5`` (the version
its fork is served by, :mod:`client.engine_versions`; V5 carries the block
access list), followed by an ``engine_forkchoiceUpdatedV3/V4`` that makes it
the head. The fork comes from the chain config (``config.fork_at(timestamp)``).

The conversion works on the raw RLP lists of the block, not on the node's
payload code, so a mistake on either side shows up as a ``blockHash``
mismatch at the node instead of being mirrored. What the block RLP does not
carry comes from beside it: the BAL (its hash is in the header) and the
execution requests (EIP-7685; only their hash is in the header). A bench chain
has no requests; a ``blockchain_test`` fixture does not carry them, so a block
whose header commits to requests other than the ones given is marked
(:attr:`EnginePayload.requests_match`) rather than silently sent wrong.

Sources: a bench chain folder (``balrex bench-chain``) or an EF
``blockchain_test`` fixture JSON file (every test in it, blocks in order).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp
from eth_hash.auto import keccak

from bal import BalError, bal_from_json, bal_to_engine_hex
from client.chain_config import ChainConfig, Fork, config_from_fixture
from client.engine_versions import forkchoice_version, new_payload_version
from client.requests import requests_hash

from .bench_chain import BenchChainError, load_chain
from .bench_chain.chain_files import METADATA_FILE

# Block header field positions (Cancun on).
_PARENT, _COINBASE, _STATE_ROOT, _RECEIPTS_ROOT, _BLOOM = 0, 2, 3, 5, 6
_NUMBER, _GAS_LIMIT, _GAS_USED, _TIMESTAMP, _EXTRA, _MIX = 8, 9, 10, 11, 12, 13
_BASE_FEE, _BLOB_GAS_USED, _EXCESS_BLOB_GAS, _BEACON_ROOT = 15, 17, 18, 19
_REQUESTS_HASH, _BAL_HASH, _SLOT_NUMBER = 20, 21, 22
_BLOB_TX_TYPE = 3
_BLOB_HASHES_FIELD = 10  # blob_versioned_hashes in an EIP-4844 transaction
ZERO_HASH_HEX = "0x" + "00" * 32


class PayloadSourceError(ValueError):
    """The block, its BAL or the source file cannot be turned into Engine API requests."""


def _quantity(raw: bytes) -> str:
    return hex(int.from_bytes(raw, "big"))


def _data(raw: bytes) -> str:
    return "0x" + raw.hex()


@dataclass(frozen=True)
class EnginePayload:
    """One block as Engine API params, and the calls that import it and make it the head."""

    fork: Fork
    block_hash: bytes
    parent_hash: bytes
    number: int
    # The executionPayload object (ExecutionPayloadV3, or V4 with the BAL from Amsterdam on).
    payload: dict[str, Any]
    versioned_hashes: list[bytes]
    beacon_root: bytes
    # The execution requests sent with V4/V5 (None before Prague).
    requests: list[bytes] | None
    # False when the header commits to execution requests other than ``requests``:
    # the node would compute another block hash and answer INVALID for that alone.
    requests_match: bool

    @property
    def hash_hex(self) -> str:
        return _data(self.block_hash)

    def new_payload(self, payload: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
        """(method, params) of the ``newPayload`` call; ``payload`` replaces the executionPayload."""
        params: list[Any] = [
            self.payload if payload is None else payload,
            [_data(h) for h in self.versioned_hashes],
            _data(self.beacon_root),
        ]
        if self.requests is not None:
            params.append([_data(r) for r in self.requests])
        return f"engine_newPayloadV{new_payload_version(self.fork)}", params

    def forkchoice(self) -> tuple[str, list[Any]]:
        """(method, params) of the ``forkchoiceUpdated`` that makes this block the head."""
        return forkchoice_call(forkchoice_version(self.fork), self.hash_hex)


def forkchoice_call(version: int, head_hash_hex: str) -> tuple[str, list[Any]]:
    """(method, params) of ``engine_forkchoiceUpdatedV<version>`` to a head, no safe or finalized block."""
    state = {
        "headBlockHash": head_hash_hex,
        "safeBlockHash": ZERO_HASH_HEX,
        "finalizedBlockHash": ZERO_HASH_HEX,
    }
    return f"engine_forkchoiceUpdatedV{version}", [state, None]


def build_payload(
    block_rlp: bytes,
    fork: Fork,
    bal_rlp: bytes | None = None,
    requests: Sequence[bytes] = (),
    check_bal_hash: bool = True,
) -> EnginePayload:
    """The Engine API form of one block of ``fork``.

    ``bal_rlp`` (the BAL's RLP, which newPayloadV5 carries as hex) is required
    from Amsterdam on and must hash to the header's ``blockAccessListHash``
    unless ``check_bal_hash`` is off (a block meant to be refused may carry a
    BAL that does not: the node must then answer INVALID).
    """
    try:
        items = rlp.decode(block_rlp)
        header, raw_transactions, withdrawals = items[0], items[1], items[3]
    except (rlp.DecodingError, IndexError, TypeError) as exc:
        raise PayloadSourceError(f"not a block RLP with withdrawals: {exc}") from None
    transactions = [tx if isinstance(tx, bytes) else rlp.encode(tx) for tx in raw_transactions]
    versioned_hashes = [
        blob_hash for tx in transactions if tx[0] == _BLOB_TX_TYPE for blob_hash in _blob_hashes(tx)
    ]
    block_hash = keccak(rlp.encode(header))
    payload: dict[str, Any] = {
        "parentHash": _data(header[_PARENT]),
        "feeRecipient": _data(header[_COINBASE]),
        "stateRoot": _data(header[_STATE_ROOT]),
        "receiptsRoot": _data(header[_RECEIPTS_ROOT]),
        "logsBloom": _data(header[_BLOOM]),
        "prevRandao": _data(header[_MIX]),
        "blockNumber": _quantity(header[_NUMBER]),
        "gasLimit": _quantity(header[_GAS_LIMIT]),
        "gasUsed": _quantity(header[_GAS_USED]),
        "timestamp": _quantity(header[_TIMESTAMP]),
        "extraData": _data(header[_EXTRA]),
        "baseFeePerGas": _quantity(header[_BASE_FEE]),
        "blockHash": _data(block_hash),
        "transactions": [_data(tx) for tx in transactions],
        "withdrawals": [
            {
                "index": _quantity(w[0]),
                "validatorIndex": _quantity(w[1]),
                "address": _data(w[2]),
                "amount": _quantity(w[3]),
            }
            for w in withdrawals
        ],
        "blobGasUsed": _quantity(header[_BLOB_GAS_USED]),
        "excessBlobGas": _quantity(header[_EXCESS_BLOB_GAS]),
    }
    if len(header) > _BAL_HASH:
        if bal_rlp is None:
            raise PayloadSourceError(
                f"block {_quantity(header[_NUMBER])} is an Amsterdam block: its BAL is needed"
            )
        if check_bal_hash and keccak(bal_rlp) != header[_BAL_HASH]:
            raise PayloadSourceError(
                f"block {_quantity(header[_NUMBER])}: the BAL given does not hash to the header's"
            )
        payload["blockAccessList"] = _data(bal_rlp)
        payload["slotNumber"] = _quantity(header[_SLOT_NUMBER])
    has_requests = len(header) > _REQUESTS_HASH
    return EnginePayload(
        fork=fork,
        block_hash=block_hash,
        parent_hash=header[_PARENT],
        number=int.from_bytes(header[_NUMBER], "big"),
        payload=payload,
        versioned_hashes=versioned_hashes,
        beacon_root=header[_BEACON_ROOT],
        requests=list(requests) if has_requests else None,
        requests_match=not has_requests or requests_hash(requests) == header[_REQUESTS_HASH],
    )


def _blob_hashes(blob_tx: bytes) -> list[bytes]:
    """An EIP-4844 transaction's versioned hashes, also from its network form.

    A block may (invalidly) hold the network form, ``[tx, blobs, commitments,
    proofs]`` (EIP-4844) or ``[tx, wrapper version, blobs, commitments, cell
    proofs]`` (EIP-7594): a consensus client would still send it, with the
    hashes the wrapped transaction names, and the node must refuse it. A
    transaction too short to name any is sent with none, for the node to judge.
    """
    fields = rlp.decode(blob_tx[1:])
    if fields and isinstance(fields[0], list):  # a network form: the transaction comes first
        fields = fields[0]
    hashes = fields[_BLOB_HASHES_FIELD] if len(fields) > _BLOB_HASHES_FIELD else []
    return hashes if isinstance(hashes, list) else []


def block_timestamp(block_rlp: bytes) -> int:
    """The header timestamp of a block RLP (what picks its fork)."""
    try:
        return int.from_bytes(rlp.decode(block_rlp)[0][_TIMESTAMP], "big")
    except (rlp.DecodingError, IndexError, TypeError) as exc:
        raise PayloadSourceError(f"not a block RLP: {exc}") from None


def payload_for_block(
    config: ChainConfig,
    block_rlp: bytes,
    bal_rlp: bytes | None = None,
    requests: Sequence[bytes] = (),
    check_bal_hash: bool = True,
) -> EnginePayload:
    """:func:`build_payload` with the fork the chain config gives the block's timestamp."""
    fork = config.fork_at(block_timestamp(block_rlp))
    return build_payload(block_rlp, fork, bal_rlp, requests, check_bal_hash)


def fixture_block_payload(
    config: ChainConfig, block: dict[str, Any], requests: Sequence[bytes] = ()
) -> EnginePayload:
    """One block of an EF ``blockchain_test``: its ``rlp`` and, from Amsterdam on, its BAL.

    A block the fixture expects invalid keeps its BAL in ``rlp_decoded`` and may
    carry one that does not hash to its header: it is sent as it is. The file
    has no execution requests: ``requests`` are the caller's candidates.
    """
    expect_invalid = "expectException" in block
    bal_json = block.get("blockAccessList", block.get("rlp_decoded", {}).get("blockAccessList"))
    bal_rlp = None
    if bal_json is not None:
        try:
            bal_rlp = bytes.fromhex(bal_to_engine_hex(bal_from_json(bal_json))[2:])
        except BalError as exc:
            raise PayloadSourceError(f"its blockAccessList JSON does not decode: {exc}") from None
    try:
        block_rlp = bytes.fromhex(block["rlp"].removeprefix("0x"))
    except (KeyError, ValueError) as exc:
        raise PayloadSourceError(f"no block RLP: {exc}") from None
    return payload_for_block(config, block_rlp, bal_rlp, requests, check_bal_hash=not expect_invalid)


@dataclass(frozen=True)
class SourceBlock:
    """A block of a source, with whether a consensus client would make it the head."""

    payload: EnginePayload
    make_head: bool
    # Where the block comes from, for messages: "block 3" or "<test id> block 3".
    label: str


def bench_chain_blocks(path: Path) -> Iterator[SourceBlock]:
    chain = load_chain(path)
    for number, (block_rlp, bal) in enumerate(zip(chain.blocks, chain.bals, strict=True), start=1):
        bal_rlp = None if bal is None else bytes.fromhex(bal_to_engine_hex(bal)[2:])
        yield SourceBlock(payload_for_block(chain.config, block_rlp, bal_rlp), True, f"block {number}")


def fixture_blocks(test_id: str, test: dict[str, Any]) -> Iterator[SourceBlock]:
    """A ``blockchain_test``'s blocks; those it expects invalid are not made the head."""
    config = config_from_fixture(test["network"], test["config"])
    for position, block in enumerate(test["blocks"], start=1):
        label = f"{test_id} block {position}"
        try:
            payload = fixture_block_payload(config, block)
        except PayloadSourceError as exc:
            raise PayloadSourceError(f"{label}: {exc}") from None
        yield SourceBlock(payload, "expectException" not in block, label)


def source_blocks(source: Path) -> Iterator[SourceBlock]:
    """Every block of a bench chain folder or of every test of an EF fixture file."""
    if source.is_dir() and (source / METADATA_FILE).exists():
        try:
            yield from bench_chain_blocks(source)
        except BenchChainError as exc:
            raise PayloadSourceError(str(exc)) from None
        return
    try:
        tests = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        raise PayloadSourceError(
            f"{source}: not a bench chain folder nor a fixture JSON file: {exc}"
        ) from None
    if not isinstance(tests, dict) or not all(isinstance(t, dict) and "blocks" in t for t in tests.values()):
        raise PayloadSourceError(f"{source}: not an EF blockchain_test fixture file (no 'blocks')")
    for test_id, test in tests.items():
        yield from fixture_blocks(test_id, test)


def json_rpc(request_id: int, method: str, params: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def engine_requests(blocks: Iterable[SourceBlock]) -> Iterator[dict[str, Any]]:
    """The JSON-RPC request objects, numbered from 1: each newPayload, then its forkchoiceUpdated."""
    request_id = 0
    for block in blocks:
        request_id += 1
        yield json_rpc(request_id, *block.payload.new_payload())
        if block.make_head:
            request_id += 1
            yield json_rpc(request_id, *block.payload.forkchoice())


def write_requests(requests: Iterable[dict[str, Any]], out: Path, jsonl: bool) -> int:
    """Write a JSON array, or one request per line (``jsonl``); the number written."""
    listed = list(requests)
    with out.open("w") as f:
        if jsonl:
            f.writelines(json.dumps(request) + "\n" for request in listed)
        else:
            json.dump(listed, f, indent=1)
            f.write("\n")
    return len(listed)


class SendError(RuntimeError):
    """The node could not be reached, refused a request, or answered with an error."""


def post_request(url: str, request: dict[str, Any], token: str, timeout: float = 120.0) -> dict[str, Any]:
    """POST one JSON-RPC request with a bearer token; the JSON answer (a JSON-RPC error included)."""
    http_request = urllib.request.Request(
        url,
        data=json.dumps(request).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SendError(f"request {request.get('id')} ({request.get('method')}): {exc}") from None
    return answer


def send_requests(
    requests: Iterable[dict[str, Any]], url: str, token: Callable[[], str], timeout: float = 120.0
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """POST each request in turn, each with a fresh ``token()``; yield (request, answer).

    Stops at the first transport or JSON-RPC error (a payload status of INVALID
    is an answer, not an error: the caller judges it).
    """
    for request in requests:
        answer = post_request(url, request, token(), timeout)
        if "error" in answer:
            raise SendError(f"request {request['id']} ({request['method']}): {answer['error']}")
        yield request, answer
