"""Execution-layer requests (EIP-7685) that a Prague+ block commits to.

Deposits (EIP-6110) come from the deposit contract's logs; a log that claims
to be a deposit but does not have the ABI layout of one makes the block
invalid. Withdrawal (EIP-7002) and consolidation (EIP-7251) requests come from
system calls to their predeploys, which must have code and must not fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from eth.vm.forks.prague.constants import (
    DEPOSIT_CONTRACT_ADDRESS,
    DEPOSIT_EVENT_SIGNATURE_HASH,
)

from pipeline.receipts import LogEntry
from pipeline.verdicts import BlockRejected, Rule


def requests_hash(requests: Sequence[bytes]) -> bytes:
    """EIP-7685: sha256 over the sha256 of each request (``type || data``) that has data."""
    digest = hashlib.sha256()
    for request in requests:
        if len(request) > 1:
            digest.update(hashlib.sha256(request).digest())
    return digest.digest()


# The DepositEvent ABI encoding: five dynamic byte strings, each announced by
# an offset and stored as length + padded data.
_DEPOSIT_EVENT_LENGTH = 576
_FIELDS = (  # (offset word position, expected offset, expected size)
    (0, 160, 48),  # pubkey
    (32, 256, 32),  # withdrawal credentials
    (64, 320, 8),  # amount
    (96, 384, 96),  # signature
    (128, 512, 8),  # index
)


def _word(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 32], "big")


def deposit_request(data: bytes) -> bytes:
    """The request bytes of one DepositEvent's data, or BlockRejected (deposit-layout)."""
    if len(data) != _DEPOSIT_EVENT_LENGTH:
        raise BlockRejected(Rule.DEPOSIT_LAYOUT, f"deposit event data is {len(data)} bytes")
    out = b""
    for position, offset, size in _FIELDS:
        if _word(data, position) != offset:
            raise BlockRejected(Rule.DEPOSIT_LAYOUT, f"field offset at {position} is not {offset}")
        if _word(data, offset) != size:
            raise BlockRejected(Rule.DEPOSIT_LAYOUT, f"field at {offset} is not {size} bytes")
        out += data[offset + 32 : offset + 32 + size]
    return out


def deposit_requests(logs: Iterable[LogEntry]) -> bytes:
    """All deposit requests of a block, concatenated in log order (``logs``: the block's, in order)."""
    return b"".join(
        deposit_request(data)
        for address, topics, data in logs
        if address == DEPOSIT_CONTRACT_ADDRESS
        and topics
        and topics[0].to_bytes(32, "big") == DEPOSIT_EVENT_SIGNATURE_HASH
    )

