"""Chain configuration: chain id, fork schedule by timestamp, blob schedule per fork.

Built from an EF fixture (``network`` + ``config``) or from a geth-style
genesis JSON (``config.chainId``, ``config.cancunTime`` ...). Only the
timestamp-scheduled forks this client executes are modelled: Cancun onwards.
"""

from __future__ import annotations

import re
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


# EEST's transition networks: fork A below timestamp 15,000, fork B from it on.
_TRANSITION = re.compile(r"(?P<before>[A-Za-z0-9]+?)To(?P<after>[A-Za-z0-9]+)AtTime15k")
TRANSITION_TIME = 15_000


def _fork_named(name: str, network: str) -> Fork:
    try:
        return Fork(name.lower())
    except ValueError:
        raise UnsupportedChainConfig(f"network {network!r} is not supported: no fork {name!r}") from None


def fork_schedule(network: str) -> tuple[tuple[Fork, int], ...]:
    """The fork schedule an EEST network name stands for.

    A single fork (``Cancun`` ... ``BPO2``, ``Amsterdam``) is active from genesis with every
    earlier one; ``<A>To<B>AtTime15k`` runs A (and the forks before it) from genesis and
    every fork after A up to B from timestamp 15,000.
    """
    transition = _TRANSITION.fullmatch(network)
    if transition is None:
        fork = _fork_named(network, network)
        return tuple((name, 0) for name in FORK_ORDER[: FORK_ORDER.index(fork) + 1])
    before = _fork_named(transition["before"], network)
    after = _fork_named(transition["after"], network)
    if FORK_ORDER.index(after) <= FORK_ORDER.index(before):
        raise UnsupportedChainConfig(f"network {network!r}: {after} does not come after {before}")
    return tuple(
        (name, 0 if FORK_ORDER.index(name) <= FORK_ORDER.index(before) else TRANSITION_TIME)
        for name in FORK_ORDER[: FORK_ORDER.index(after) + 1]
    )


def config_from_fixture(network: str, config: Mapping[str, Any]) -> ChainConfig:
    """A fixture's network (a single fork, or a transition at timestamp 15,000: :func:`fork_schedule`)."""
    schedule = fork_schedule(network)
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
