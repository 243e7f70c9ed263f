"""Chain configuration: chain id, fork schedule by timestamp, blob schedule per fork.

Built from an EF fixture (``network`` + ``config``) or from a geth-style
genesis JSON (``config.chainId``, ``config.cancunTime`` ...). Only the
timestamp-scheduled forks this client executes are modelled: Cancun onwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Fork(StrEnum):
    """The forks this client knows, oldest first; a fork's rules include all earlier ones.

    Values are the lower-case names the fixtures, genesis files and blob
    schedules use (a member equals its name as a string).
    """

    CANCUN = "cancun"
    PRAGUE = "prague"
    OSAKA = "osaka"
    BPO1 = "bpo1"
    BPO2 = "bpo2"
    AMSTERDAM = "amsterdam"


FORK_ORDER: tuple[Fork, ...] = tuple(Fork)

# geth genesis config keys for each fork's activation time.
_GETH_TIME_KEYS = {fork: f"{fork}Time" for fork in Fork}


class UnsupportedChainConfig(ValueError):
    """The configuration names a fork or network this client cannot run."""


@dataclass(frozen=True, slots=True)
class BlobParams:
    target: int
    max: int
    base_fee_update_fraction: int


@dataclass(frozen=True)
class ChainConfig:
    chain_id: int
    # (fork, activation timestamp), ascending by fork order.
    fork_times: tuple[tuple[Fork, int], ...]
    blob_schedule: Mapping[str, BlobParams] = field(default_factory=dict)

    def fork_at(self, timestamp: int) -> Fork:
        """The fork whose rules apply to a block with this timestamp."""
        active = [fork for fork, time in self.fork_times if time <= timestamp]
        if not active:
            raise UnsupportedChainConfig(
                f"no supported fork is active at timestamp {timestamp} (this client starts at Cancun)"
            )
        return active[-1]

    def blob_params(self, fork: Fork) -> BlobParams:
        """The blob parameters in force for ``fork`` (the latest scheduled at or before it)."""
        for name in reversed(FORK_ORDER[: FORK_ORDER.index(fork) + 1]):
            if name in self.blob_schedule:
                return self.blob_schedule[name]
        raise UnsupportedChainConfig(f"no blob schedule for {fork}")


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(value, 16) if str(value).startswith("0x") else int(value)


def _blob_schedule(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, BlobParams]:
    return {
        fork.lower(): BlobParams(
            target=_int(params["target"]),
            max=_int(params["max"]),
            base_fee_update_fraction=_int(params["baseFeeUpdateFraction"]),
        )
        for fork, params in raw.items()
    }


def config_from_fixture(network: str, config: Mapping[str, Any]) -> ChainConfig:
    """A fixture's single-fork network (``Cancun``, ``Prague``, ``Amsterdam`` ...): active from genesis."""
    try:
        fork = Fork(network.lower())
    except ValueError:
        raise UnsupportedChainConfig(f"network {network!r} is not supported") from None
    schedule = tuple((name, 0) for name in FORK_ORDER[: FORK_ORDER.index(fork) + 1])
    return ChainConfig(
        chain_id=_int(config.get("chainid", 1)),
        fork_times=schedule,
        blob_schedule=_blob_schedule(config.get("blobSchedule", {})),
    )


def config_from_geth_genesis(config: Mapping[str, Any]) -> ChainConfig:
    """The ``config`` object of a geth-style genesis file."""
    times = tuple(
        (fork, _int(config[key])) for fork, key in _GETH_TIME_KEYS.items() if config.get(key) is not None
    )
    if not times:
        raise UnsupportedChainConfig("genesis config schedules no fork from Cancun on (cancunTime ...)")
    return ChainConfig(
        chain_id=_int(config["chainId"]),
        fork_times=times,
        blob_schedule=_blob_schedule(config.get("blobSchedule", {})),
    )
