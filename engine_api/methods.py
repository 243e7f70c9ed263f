"""The Engine API: every method family over one shared context, and the capabilities it serves.

The families, one module each: ``new_payload`` (newPayloadV3/V4/V5),
``forkchoice`` (forkchoiceUpdatedV3/V4, which starts payload builds:
``payload_builds``), ``get_payload`` (getPayloadV3..V6), ``blobs``
(getBlobsV1/V2 from the pool), ``payload_bodies``
(getPayloadBodiesByHash/RangeV1/V2) and ``eth_reads`` (the ``eth_`` reads a
consensus client uses); the public port's ``eth_`` families (state,
transactions, fees, info, ``eth_logs``) serve the subset common.md names
here too. ``engine_exchangeCapabilities`` answers the ``engine_`` methods
the dispatcher registered, so the list cannot drift. They share an
:class:`~engine_api.context.EngineContext`: the chain, the worker pools, the
import lock and the memory of invalid payloads. Imports are serialized by
the lock and run the pipeline, whose execution runs in threads and worker
processes.
"""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Any

from client.blockchain import Blockchain
from client.txpool import TxPool
from pipeline import LaterPartPool, Merkleizer

from .blobs import BlobMethods
from .context import EngineContext
from .eth_context import EthContext
from .eth_fees import EthFeeMethods
from .eth_info import EthInfoMethods
from .eth_logs import EthLogMethods
from .eth_reads import EthReads
from .eth_state import EthStateMethods
from .eth_transactions import EthTransactionMethods
from .forkchoice import ForkchoiceMethods
from .get_payload import GetPayloadMethods
from .jsonrpc import Dispatcher, Param
from .models import ClientVersionV1
from .new_payload import NewPayloadMethods
from .payload_bodies import PayloadBodiesMethods
from .payload_builds import PayloadBuilds

CLIENT_CODE = "BX"  # not a registered two-letter code; ours until balrex has one

# The eth_ methods the Engine API port serves beside the engine_ ones (execution-apis
# src/engine/common.md); the public port serves every eth_ method.
ENGINE_PORT_ETH_METHODS = (
    "eth_blockNumber",
    "eth_call",
    "eth_chainId",
    "eth_getCode",
    "eth_getBlockByHash",
    "eth_getBlockByNumber",
    "eth_getLogs",
    "eth_sendRawTransaction",
    "eth_syncing",
)


class EngineApi:
    def __init__(
        self,
        blockchain: Blockchain,
        merkleizer: Merkleizer | None = None,
        later_parts: LaterPartPool | None = None,
        pool: TxPool | None = None,
    ) -> None:
        self.context = EngineContext(blockchain, merkleizer, later_parts)
        self.eth = EthContext(self.context, pool if pool is not None else TxPool(blockchain.config.chain_id))
        self.builds = PayloadBuilds(self.context, self.eth)
        self.families = (
            NewPayloadMethods(self.context),
            ForkchoiceMethods(self.context, self.builds),
            GetPayloadMethods(self.builds),
            BlobMethods(self.eth.pool),
            PayloadBodiesMethods(self.context),
        )
        # The engine_ methods served, filled in by dispatcher() (engine_exchangeCapabilities).
        self.engine_methods: tuple[str, ...] = ()
        self.eth_families = (
            EthReads(self.context),
            EthStateMethods(self.eth),
            EthTransactionMethods(self.eth),
            EthFeeMethods(self.eth),
            EthInfoMethods(self.eth),
            EthLogMethods(self.eth),
        )

    def public_dispatcher(self) -> Dispatcher:
        """The public port's methods: every ``eth_``, ``net_`` and ``web3_`` method, no ``engine_``."""
        dispatcher = Dispatcher()
        for family in self.eth_families:
            family.register(dispatcher)
        return dispatcher

    def dispatcher(self) -> Dispatcher:
        """The Engine API port's methods: the ``engine_`` ones and common.md's ``eth_`` subset."""
        public = self.public_dispatcher().methods
        dispatcher = Dispatcher()
        dispatcher.methods.update(
            {name: method for name, method in public.items() if name in ENGINE_PORT_ETH_METHODS}
        )
        dispatcher.register(
            "engine_exchangeCapabilities", self.exchange_capabilities, Param("capabilities", list[str])
        )
        dispatcher.register(
            "engine_getClientVersionV1", self.get_client_version, Param("clientVersion", ClientVersionV1)
        )
        for family in self.families:
            family.register(dispatcher)
        self.engine_methods = tuple(sorted(name for name in dispatcher.methods if name.startswith("engine_")))
        return dispatcher

    async def exchange_capabilities(self, capabilities: list[str]) -> list[str]:
        """The Engine API methods this node serves; common.md §Capabilities: never this one."""
        return [name for name in self.engine_methods if name != "engine_exchangeCapabilities"]

    async def get_client_version(self, _consensus: ClientVersionV1) -> list[dict[str, Any]]:
        me = ClientVersionV1(
            code=CLIENT_CODE, name="balrex", version=package_version("balrex"), commit="0x00000000"
        )
        return [me.to_json()]
