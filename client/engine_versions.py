"""Which Engine API method version serves which fork (execution-apis).

One table for both sides of the API: the node answers ``-38005 Unsupported
fork`` to a version called for a fork it does not serve (``engine_api``), and
the payload tool (:mod:`client.tools.payloads`) picks the version a consensus
client would call. Both read it here so they cannot disagree.
"""

from __future__ import annotations

from .chain_config import Fork


class NoEngineVersion(ValueError):
    """No ``newPayload``/``forkchoiceUpdated`` version serves this fork."""


NEW_PAYLOAD_V3_FORKS = (Fork.CANCUN,)
NEW_PAYLOAD_V4_FORKS = (Fork.PRAGUE, Fork.OSAKA, Fork.BPO1, Fork.BPO2)
NEW_PAYLOAD_V5_FORKS = (Fork.AMSTERDAM,)
FORKCHOICE_V3_FORKS = (Fork.CANCUN, Fork.PRAGUE, Fork.OSAKA, Fork.BPO1, Fork.BPO2)
FORKCHOICE_V4_FORKS = (Fork.AMSTERDAM,)
# Which forks' payloads each getPayload version returns (its blobs bundle and payload shape).
GET_PAYLOAD_V3_FORKS = (Fork.CANCUN,)
GET_PAYLOAD_V4_FORKS = (Fork.PRAGUE,)
GET_PAYLOAD_V5_FORKS = (Fork.OSAKA, Fork.BPO1, Fork.BPO2)
GET_PAYLOAD_V6_FORKS = (Fork.AMSTERDAM,)

_NEW_PAYLOAD_VERSIONS = {3: NEW_PAYLOAD_V3_FORKS, 4: NEW_PAYLOAD_V4_FORKS, 5: NEW_PAYLOAD_V5_FORKS}
_FORKCHOICE_VERSIONS = {3: FORKCHOICE_V3_FORKS, 4: FORKCHOICE_V4_FORKS}


def _version(fork: Fork, versions: dict[int, tuple[Fork, ...]], method: str) -> int:
    for version, forks in versions.items():
        if fork in forks:
            return version
    raise NoEngineVersion(f"no {method} version serves {fork}")


def new_payload_version(fork: Fork) -> int:
    """The ``engine_newPayloadV<n>`` for a block of ``fork``."""
    return _version(fork, _NEW_PAYLOAD_VERSIONS, "engine_newPayload")


def forkchoice_version(fork: Fork) -> int:
    """The ``engine_forkchoiceUpdatedV<n>`` for a head of ``fork``."""
    return _version(fork, _FORKCHOICE_VERSIONS, "engine_forkchoiceUpdated")
