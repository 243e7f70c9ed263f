"""Chain configuration: chain id, fork schedule by timestamp, blob schedule per fork.

Built from an EF fixture (``network`` + ``config``) or from a geth-style
genesis JSON (``config.chainId``, ``config.cancunTime`` ...). Only the
timestamp-scheduled forks this client executes are modelled: Cancun onwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Forks this client knows, oldest first; a fork's rules include all earlier ones.
FORK_ORDER: tuple[str, ...] = ("cancun", "prague", "osaka", "bpo1", "bpo2", "amsterdam")

# geth genesis config keys for each fork's activation time.
_GETH_TIME_KEYS = {
    "cancun": "cancunTime",
    "prague": "pragueTime",
    "osaka": "osakaTime",
    "bpo1": "bpo1Time",
    "bpo2": "bpo2Time",
    "amsterdam": "amsterdamTime",
}


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
    fork_times: tuple[tuple[str, int], ...]
    blob_schedule: Mapping[str, BlobParams] = field(default_factory=dict)

    def fork_at(self, timestamp: int) -> str:
        """The fork whose rules apply to a block with this timestamp."""
        active = [fork for fork, time in self.fork_times if time <= timestamp]
        if not active:
            raise UnsupportedChainConfig(
                f"no supported fork is active at timestamp {timestamp} (this client starts at Cancun)"
            )
        return active[-1]

    def blob_params(self, fork: str) -> BlobParams:
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
    fork = network.lower()
    if fork not in FORK_ORDER:
        raise UnsupportedChainConfig(f"network {network!r} is not supported")
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
