"""Genesis state from an allocation (EF fixture ``pre`` or a geth-style ``alloc``), and the
genesis block of a geth-style genesis file.

A genesis allocation is just a set of account deltas applied to the empty
state, so it goes through the same merkleizer as every block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import rlp
from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from merkle import merkleize
from storage import EMPTY_ROOT, Chain, MemoryStore, StateWrites, Store

from .chain_config import ChainConfig, UnsupportedChainConfig, config_from_geth_genesis
from .dev_genesis import dev_genesis
from .forks import FORK_VMS
from .requests import requests_hash


def parse_quantity(value: Any) -> int:
    """A JSON number: 0x-hex string, decimal string, or int (geth genesis files use all three)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value, 10)
    raise ValueError(f"not a quantity: {value!r}")


def parse_hex_bytes(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"not 0x-prefixed hex: {value!r:.80}")
    return bytes.fromhex(value[2:])


def alloc_to_deltas(alloc: Mapping[str, Mapping[str, Any]]) -> list[AccountDelta]:
    deltas = []
    for address, account in alloc.items():
        raw_address = parse_hex_bytes(address)
        if len(raw_address) != 20:
            raise ValueError(f"genesis address {address} is not 20 bytes")
        storage = {
            parse_quantity(slot): parse_quantity(value)
            for slot, value in (account.get("storage") or {}).items()
        }
        deltas.append(
            AccountDelta(
                address=raw_address,
                balance=parse_quantity(account.get("balance", 0)),
                nonce=parse_quantity(account.get("nonce", 0)),
                code=parse_hex_bytes(account.get("code", "0x")),
                storage=MappingProxyType({k: v for k, v in storage.items() if v}),
            )
        )
    return deltas


def genesis_state(store: Store, alloc: Mapping[str, Mapping[str, Any]]) -> StateWrites:
    """The genesis state root and its writes (not yet committed)."""
    return merkleize(store, EMPTY_ROOT, alloc_to_deltas(alloc))


@dataclass(frozen=True)
class Genesis:
    config: ChainConfig
    alloc: Mapping[str, Mapping[str, Any]]
    # The genesis state's root and writes: computed once, for the header and for the store.
    state: StateWrites
    block_rlp: bytes
    block_hash: bytes


def build_genesis(genesis: Mapping[str, Any]) -> Genesis:
    """The genesis block of a geth-style genesis, built with the header class of its fork.

    From Amsterdam that is the 23-field header: the BAL hash of the empty list and
    ``slotNumber`` (default 0).
    """
    config = config_from_geth_genesis(genesis["config"])
    timestamp = parse_quantity(genesis.get("timestamp", 0))
    fork = config.fork_at(timestamp)
    if fork not in FORK_VMS:
        raise UnsupportedChainConfig(f"genesis fork {fork} does not execute in this node yet")
    block_class = FORK_VMS[fork].get_block_class()
    header_class = dict(block_class._meta.fields)["header"]
    alloc = genesis.get("alloc", {})
    state = genesis_state(MemoryStore(), alloc)
    fields: dict[str, Any] = dict(
        parent_hash=parse_hex_bytes(genesis.get("parentHash", "0x" + "00" * 32)),
        coinbase=parse_hex_bytes(genesis.get("coinbase", "0x" + "00" * 20)),
        state_root=state.state_root,
        difficulty=parse_quantity(genesis.get("difficulty", 0)),
        block_number=parse_quantity(genesis.get("number", 0)),
        gas_limit=parse_quantity(genesis.get("gasLimit", 30_000_000)),
        gas_used=parse_quantity(genesis.get("gasUsed", 0)),
        timestamp=timestamp,
        extra_data=parse_hex_bytes(genesis.get("extraData", "0x")),
        mix_hash=parse_hex_bytes(genesis.get("mixHash", "0x" + "00" * 32)),
        nonce=parse_quantity(genesis.get("nonce", 0)).to_bytes(8, "big"),
        base_fee_per_gas=parse_quantity(genesis.get("baseFeePerGas", 10**9)),
        blob_gas_used=parse_quantity(genesis.get("blobGasUsed", 0)),
        excess_blob_gas=parse_quantity(genesis.get("excessBlobGas", 0)),
        parent_beacon_block_root=b"\x00" * 32,
    )
    header_fields = dict(header_class._meta.fields)
    if "requests_hash" in header_fields:
        fields["requests_hash"] = requests_hash([])
    if "block_access_list_hash" in header_fields:  # Amsterdam: the genesis has the empty BAL
        fields["block_access_list_hash"] = keccak(rlp.encode([]))
        fields["slot_number"] = parse_quantity(genesis.get("slotNumber", 0))
    header = header_class(**fields)
    block = block_class(header, transactions=[], uncles=[], withdrawals=[])
    return Genesis(config, alloc, state, rlp.encode(block), header.hash)


class DatadirGenesisError(ValueError):
    """A data dir's genesis file cannot be read, or builds another block 0 than the one stored."""


def datadir_genesis_json(datadir: Path, genesis_path: Path | None = None) -> dict[str, Any]:
    """The genesis a data dir was started with: ``genesis_path`` when given, else
    ``<datadir>/genesis.json`` (``balrex dev`` writes it) if present, else the dev genesis
    (``balrex node`` without ``--genesis``)."""
    path = genesis_path if genesis_path is not None else datadir / "genesis.json"
    if genesis_path is None and not path.exists():
        return dev_genesis()
    try:
        genesis = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatadirGenesisError(f"cannot read genesis {path}: {exc}") from None
    if not isinstance(genesis, dict):
        raise DatadirGenesisError(f"genesis {path} is not a JSON object")
    return genesis


def check_stored_genesis(chain: Chain, genesis: Genesis) -> None:
    """Refuse a genesis whose block 0 is not the one ``chain`` holds (its fork schedule would be wrong)."""
    stored = chain.canonical_hash(0)
    if stored is None:
        raise DatadirGenesisError("the data dir holds no chain")
    if stored != genesis.block_hash:
        raise DatadirGenesisError(
            f"the data dir's genesis is 0x{stored.hex()}, "
            f"the genesis given builds 0x{genesis.block_hash.hex()}"
        )
