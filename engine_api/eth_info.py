"""What a wallet asks of a node before anything else: sync state, network id, client version."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import version as package_version

from .eth_context import EthContext
from .jsonrpc import Dispatcher


def client_version() -> str:
    """geth's shape: name/version/os-arch/runtime."""
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return f"balrex/v{package_version('balrex')}/{sys.platform}-{platform.machine()}/{runtime}"


class EthInfoMethods:
    def __init__(self, eth: EthContext) -> None:
        self.eth = eth

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("eth_syncing", self.syncing)
        dispatcher.register("net_version", self.net_version)
        dispatcher.register("web3_clientVersion", self.client_version)

    async def syncing(self) -> bool:
        """Always ``false``: the node follows its consensus client block by block, it never syncs a range."""
        return False

    async def net_version(self) -> str:
        """The network id, which for the chains this node runs is the chain id (decimal, as geth answers)."""
        return str(self.eth.engine.blockchain.config.chain_id)

    async def client_version(self) -> str:
        return client_version()
