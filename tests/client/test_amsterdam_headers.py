"""Amsterdam headers: 23 fields, decode_header, genesis, FORK_VMS and SLOTNUM in the context."""

from __future__ import annotations

import pytest
import rlp
from eth.vm.chain_context import ChainContext
from eth_hash.auto import keccak
from eth_utils import ValidationError
from fixture_files import first_test

from client.chain_config import config_from_fixture
from client.chaindb import decode_header
from client.forks import FORK_VMS, BalrexAmsterdamVM
from client.forks.amsterdam.headers import EMPTY_BAL_HASH, AmsterdamBlockHeader
from client.forks.amsterdam.state import AmsterdamStoreState
from client.forks.osaka import TX_GAS_LIMIT_CAP, OsakaStoreState
from client.genesis import parse_hex_bytes
from storage.block_rlp import split_block

SLOTNUM_FIXTURE = "for_amsterdam/amsterdam/eip7843_slotnum/slotnum/slotnum_value.json"


def test_header_round_trip_with_slot_number() -> None:
    header = AmsterdamBlockHeader(
        difficulty=0, block_number=3, gas_limit=30_000_000, timestamp=12, slot_number=2**64 - 1
    )
    encoded = rlp.encode(header)
    assert len(rlp.decode(encoded)) == 23
    decoded = decode_header(encoded)
    assert isinstance(decoded, AmsterdamBlockHeader)
    assert decoded.slot_number == 2**64 - 1
    assert decoded.block_access_list_hash == EMPTY_BAL_HASH == keccak(rlp.encode([]))
    assert decoded.hash == header.hash
    assert decoded.copy(gas_used=5).slot_number == 2**64 - 1


def test_genesis_and_blocks_of_a_fixture_decode() -> None:
    test = first_test("for_amsterdam.tar.gz", SLOTNUM_FIXTURE)
    genesis = decode_header(split_block(parse_hex_bytes(test["genesisRLP"])).header_rlp)
    assert isinstance(genesis, AmsterdamBlockHeader)
    assert genesis.slot_number == 0
    assert genesis.hash == parse_hex_bytes(test["genesisBlockHeader"]["hash"])
    for block in test["blocks"]:
        header = decode_header(split_block(parse_hex_bytes(block["rlp"])).header_rlp)
        assert header.slot_number == int(block["blockHeader"]["slotNumber"], 16)
        assert header.hash == parse_hex_bytes(block["blockHeader"]["hash"])


def test_fork_vm_and_blob_parameters() -> None:
    test = first_test("for_amsterdam.tar.gz", SLOTNUM_FIXTURE)
    config = config_from_fixture(test["network"], test["config"])
    vm_class = FORK_VMS["amsterdam"].for_chain(config, "amsterdam")
    assert issubclass(vm_class, BalrexAmsterdamVM)
    assert vm_class.blob_params == config.blob_params("amsterdam")
    assert issubclass(vm_class._state_class, AmsterdamStoreState)


def test_slot_number_reaches_the_execution_context() -> None:
    header = AmsterdamBlockHeader(difficulty=0, block_number=1, gas_limit=1, timestamp=1, slot_number=42)
    context = BalrexAmsterdamVM.create_execution_context(header, [], ChainContext(1))
    assert context.slot_number == 42


def test_gas_cap_is_off() -> None:
    """Osaka caps a transaction's gas limit at 2**24 (EIP-7825); Amsterdam lifts the cap (EIP-8037)."""

    class Tx:
        gas = TX_GAS_LIMIT_CAP + 1

    with pytest.raises(ValidationError, match="exceeds the cap"):
        OsakaStoreState.validate_gas_limit_cap(None, Tx())  # type: ignore[arg-type]
    assert AmsterdamStoreState.validate_gas_limit_cap(None, Tx()) is None  # type: ignore[arg-type,func-returns-value]
