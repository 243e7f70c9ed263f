"""client/chain_config.py fork schedules and client/requests.py deposit parsing."""

from __future__ import annotations

import pytest

from client.chain_config import (
    BlobParams,
    UnsupportedChainConfig,
    config_from_fixture,
    config_from_geth_genesis,
)
from client.requests import deposit_request
from pipeline.verdicts import BlockRejected

BLOBS = {"Cancun": {"target": "0x03", "max": "0x06", "baseFeeUpdateFraction": "0x32f0ed"}}


def test_fixture_network_is_active_from_genesis_with_its_blob_schedule() -> None:
    config = config_from_fixture("Prague", {"chainid": "0x07", "blobSchedule": BLOBS})
    assert config.chain_id == 7
    assert config.fork_at(0) == "prague"
    # Prague has no entry of its own here: the latest earlier one applies.
    assert config.blob_params("prague") == BlobParams(3, 6, 0x32F0ED)
    with pytest.raises(UnsupportedChainConfig):
        config_from_fixture("Byzantium", {})


def test_geth_genesis_schedules_forks_by_time() -> None:
    config = config_from_geth_genesis({"chainId": 1337, "cancunTime": 0, "pragueTime": 100})
    assert [config.fork_at(t) for t in (0, 99, 100, 10**9)] == ["cancun", "cancun", "prague", "prague"]
    late = config_from_geth_genesis({"chainId": 1, "cancunTime": 50})
    with pytest.raises(UnsupportedChainConfig):
        late.fork_at(49)
    with pytest.raises(UnsupportedChainConfig):
        config_from_geth_genesis({"chainId": 1})


def _deposit_event(pubkey: bytes, credentials: bytes, amount: bytes, signature: bytes, index: bytes) -> bytes:
    """ABI-encode DepositEvent(bytes,bytes,bytes,bytes,bytes) independently of the parser."""
    fields = [pubkey, credentials, amount, signature, index]
    head, tail = b"", b""
    offset = 32 * len(fields)
    for field in fields:
        head += offset.to_bytes(32, "big")
        padded = field + b"\x00" * (-len(field) % 32)
        tail += len(field).to_bytes(32, "big") + padded
        offset += 32 + len(padded)
    return head + tail


def test_a_well_formed_deposit_event_gives_its_fields_in_order() -> None:
    parts = (b"\x01" * 48, b"\x02" * 32, b"\x03" * 8, b"\x04" * 96, b"\x05" * 8)
    event = _deposit_event(*parts)
    assert len(event) == 576
    assert deposit_request(event) == b"".join(parts)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda e: e[:-1],  # short
        lambda e: (161).to_bytes(32, "big") + e[32:],  # pubkey offset moved
        lambda e: e[:160] + (47).to_bytes(32, "big") + e[192:],  # pubkey size wrong
        lambda e: e[:512] + (9).to_bytes(32, "big") + e[544:],  # index size wrong
    ],
)
def test_a_malformed_deposit_event_invalidates_the_block(mangle) -> None:  # type: ignore[no-untyped-def]
    event = _deposit_event(b"\x01" * 48, b"\x02" * 32, b"\x03" * 8, b"\x04" * 96, b"\x05" * 8)
    with pytest.raises(BlockRejected) as error:
        deposit_request(mangle(event))
    assert error.value.rule == "deposit-layout"
