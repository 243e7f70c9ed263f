"""Fork classes: py-evm's VMs running on our store and stopping short of the state root.

Each fork subclasses py-evm's VM of the same name with the mixins of
:mod:`client.forks.store_mixins`, and overrides only what it changes, the way
py-evm's own forks subclass each other. Later forks (Osaka, Amsterdam)
subclass these.
"""

from __future__ import annotations

from ..chain_config import Fork
from .amsterdam import BalrexAmsterdamVM
from .cancun import BalrexCancunVM
from .osaka import BalrexOsakaVM
from .prague import BalrexPragueVM

# The VM for each fork of client.chain_config.
FORK_VMS: dict[Fork, type] = {
    Fork.CANCUN: BalrexCancunVM,
    Fork.PRAGUE: BalrexPragueVM,
    # The blob-parameter-only forks run Osaka's rules with their own parameters.
    Fork.OSAKA: BalrexOsakaVM,
    Fork.BPO1: BalrexOsakaVM,
    Fork.BPO2: BalrexOsakaVM,
    Fork.AMSTERDAM: BalrexAmsterdamVM,
}

__all__ = [
    "FORK_VMS",
    "BalrexAmsterdamVM",
    "BalrexCancunVM",
    "BalrexOsakaVM",
    "BalrexPragueVM",
]
