"""client/forks/osaka.py: blob schedule with EIP-7918, CLZ, the gas cap, the block size limit."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from eth_utils import ValidationError
from fixture_files import release_archive, unpack_archive

from client.chain_config import config_from_fixture
from client.forks import FORK_VMS
from client.forks.osaka import (
    MAX_RLP_BLOCK_SIZE,
    TX_GAS_LIMIT_CAP,
    BalrexOsakaVM,
    OsakaStoreState,
    clz,
    excess_blob_gas,
)

BLOB_FOLDERS = ("cancun/eip4844_blobs/excess_blob_gas", "osaka/eip7918_blob_reserve_price")


def _header(fields: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(
        excess_blob_gas=int(fields["excessBlobGas"], 16),
        blob_gas_used=int(fields["blobGasUsed"], 16),
        base_fee_per_gas=int(fields["baseFeePerGas"], 16),
    )


def test_excess_blob_gas_matches_every_valid_header_link() -> None:
    """Every valid block's excessBlobGas follows from its parent under the fixture's schedule.

    These fixtures run with Amsterdam's parameters (target 14, max 21) and hit
    EIP-7918's reserve-price branch; a wrong formula or wrong parameters fail here.
    """
    root = unpack_archive(release_archive("for_amsterdam.tar.gz")) / "blockchain_tests" / "for_amsterdam"
    links = reserve = 0
    for folder in BLOB_FOLDERS:
        for path in sorted((root / folder).rglob("*.json")):
            for test in json.loads(path.read_text()).values():
                params = config_from_fixture(test["network"], test["config"]).blob_params("amsterdam")
                parent = _header(test["genesisBlockHeader"])
                for block in test["blocks"]:
                    if "expectException" in block:
                        continue
                    child = _header(block["blockHeader"])
                    assert excess_blob_gas(parent, params) == child.excess_blob_gas, path.name
                    usual = max(parent.excess_blob_gas + parent.blob_gas_used - params.target * 2**17, 0)
                    reserve += child.excess_blob_gas != usual
                    links += 1
                    parent = child
    assert links > 100
    assert reserve > 0, "the EIP-7918 reserve-price branch was never exercised"


@pytest.mark.parametrize("value", [0, 1, 2, 255, 2**128, 2**255, 2**256 - 1])
def test_clz_counts_leading_zero_bits(value: int) -> None:
    stack: list[int] = [value]
    computation = SimpleNamespace(stack_pop1_int=stack.pop, stack_push_int=stack.append)
    clz(computation)  # type: ignore[arg-type]
    bits = format(value, "0256b")
    assert stack == [bits.index("1") if value else 256]


def test_transaction_gas_cap_and_block_size_limit() -> None:
    OsakaStoreState.validate_gas_limit_cap(None, SimpleNamespace(gas=TX_GAS_LIMIT_CAP))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        OsakaStoreState.validate_gas_limit_cap(None, SimpleNamespace(gas=TX_GAS_LIMIT_CAP + 1))  # type: ignore[arg-type]
    BalrexOsakaVM.validate_block_rlp_size(MAX_RLP_BLOCK_SIZE)
    with pytest.raises(ValidationError):
        BalrexOsakaVM.validate_block_rlp_size(MAX_RLP_BLOCK_SIZE + 1)


def test_each_blob_parameter_fork_gets_its_own_parameters() -> None:
    schedule = {
        name: {"target": hex(t), "max": hex(m), "baseFeeUpdateFraction": hex(f)}
        for name, t, m, f in (("Osaka", 6, 9, 5007716), ("BPO1", 10, 15, 8346193), ("BPO2", 14, 21, 11684671))
    }
    config = config_from_fixture("BPO2", {"blobSchedule": schedule})
    osaka, bpo1, bpo2 = (FORK_VMS[f].for_chain(config, f) for f in ("osaka", "bpo1", "bpo2"))
    assert (osaka.blob_params.max, bpo1.blob_params.max, bpo2.blob_params.max) == (9, 15, 21)
    assert bpo1._state_class.blob_params == bpo1.blob_params
    assert FORK_VMS["bpo1"].for_chain(config, "bpo1") is bpo1, "configured once per parameter set"

