"""The bench chain's geth-style genesis: the world's state plus the system contracts.

Every fork from Cancun up to the chosen one is active at time 0, as in
:mod:`client.dev_genesis` (or, for a chain that crosses into Amsterdam, every
fork up to BPO2 at time 0 and Amsterdam from a later timestamp), whose system
contracts (EIP-4788/2935/7002/7251, which the Prague and Amsterdam VMs call
every block) and blob schedule are reused. Token balances, allowances,
reserves and stored values are written straight into the contracts' storage,
so the chain starts with a realistically sized state without spending blocks
to build it.
"""

from __future__ import annotations

from typing import Any

from client.chain_config import FORK_ORDER, Fork
from client.dev_genesis import SYSTEM_CONTRACTS, dev_genesis

from . import contracts
from .world import UNLIMITED, World

FORKS = ("prague", "amsterdam")
CHAIN_ID = 7928
GAS_LIMIT = 60_000_000
INITIAL_BASE_FEE = 10**9
EXTRA_DATA = b"balrex bench-chain"


def _slot(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _account(balance: int = 0, code: bytes = b"", storage: dict[int, int] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"balance": hex(balance)}
    if code:
        entry["nonce"] = "0x1"
        entry["code"] = "0x" + code.hex()
    if storage:
        entry["storage"] = {_slot(slot): _slot(value) for slot, value in storage.items()}
    return entry


def _config(fork: str, amsterdam_time: int | None) -> dict[str, Any]:
    """Every fork up to ``fork`` at time 0; with ``amsterdam_time``, BPO2 at 0 and Amsterdam then."""
    schedule = dev_genesis()["config"]["blobSchedule"]
    if amsterdam_time is None:
        active = [name for name in FORK_ORDER[: FORK_ORDER.index(fork) + 1] if not name.startswith("bpo")]
        times = {name: 0 for name in active}
    else:
        times = {name: 0 for name in FORK_ORDER[: FORK_ORDER.index(Fork.BPO2) + 1]}
        times[Fork.AMSTERDAM] = amsterdam_time
    return {
        "chainId": CHAIN_ID,
        **{f"{name}Time": time for name, time in times.items()},
        # The BPO forks keep Osaka's blob parameters here (they have no entry of their own).
        "blobSchedule": {name: schedule[name] for name in times if name in schedule},
    }


def _token_storage(world: World, token: int) -> dict[int, int]:
    storage = {
        contracts.balance_slot(world.addresses[holder]): balance
        for holder, balance in world.balances[token].items()
    }
    if token < len(world.reserves):
        storage[contracts.balance_slot(world.pair)] = world.reserves[token]
        for trader in world.traders:
            storage[contracts.allowance_slot(world.addresses[trader], world.pair)] = UNLIMITED
    return storage


def bench_genesis(world: World, fork: str, amsterdam_time: int | None = None) -> dict[str, Any]:
    """The genesis dict of ``world`` under ``fork`` (a fresh dict each call).

    ``amsterdam_time``: genesis is a BPO2 block and Amsterdam starts at that timestamp.
    """
    alloc: dict[str, dict[str, Any]] = {
        address: {"balance": "0x0", "nonce": "0x1", "code": code}
        for address, code in SYSTEM_CONTRACTS.items()
    }
    for token, address in enumerate(world.tokens):
        alloc["0x" + address.hex()] = _account(
            code=contracts.TOKEN_RUNTIME, storage=_token_storage(world, token)
        )
    alloc["0x" + world.pair.hex()] = _account(
        code=contracts.pair_runtime(world.tokens[0], world.tokens[1]),
        storage={contracts.RESERVE0_SLOT: world.reserves[0], contracts.RESERVE1_SLOT: world.reserves[1]},
    )
    store_values = {
        contracts.store_slot(world.addresses[account], key): key + 1 for account, key in world.stored
    }
    alloc["0x" + world.store.hex()] = _account(code=contracts.STORE_RUNTIME, storage=store_values)
    for address, balance in zip(world.addresses, world.eth, strict=True):
        alloc["0x" + address.hex()] = _account(balance)
    genesis: dict[str, Any] = {
        "config": _config(fork, amsterdam_time),
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x" + EXTRA_DATA.hex(),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": hex(INITIAL_BASE_FEE),
        "excessBlobGas": "0x0",
        "blobGasUsed": "0x0",
        "alloc": alloc,
    }
    if fork == "amsterdam" and amsterdam_time is None:
        genesis["slotNumber"] = "0x0"
    return genesis
