"""State reads: balance, nonce (the pool counts for ``pending``), code, storage, call, estimateGas.

Reads at the head use the flat state; at any other stored block, its tries.
``eth_call`` and ``eth_estimateGas`` run a message in the context of the
block after the one named (the head for ``latest``), on a throw-away state
read from the tries, in a worker thread (the event loop keeps serving); the
state is dropped afterwards. As geth does, a call that gives no fee runs with
a base fee of zero (so a sender without ether can call) and its gas defaults
to the block gas limit, capped at ``--rpc.gascap``; a fork's cap on a
transaction's gas (EIP-7825 in Osaka) caps it further.
"""

from __future__ import annotations

from typing import Any

import trio
from eth.abc import BlockHeaderAPI, ComputationAPI
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from pydantic.alias_generators import to_camel

from client.chain_config import Fork
from client.forks.osaka import TX_GAS_LIMIT_CAP
from client.head_state import HeadView, view_at

from .errors import INVALID_PARAMS, RpcError
from .eth_context import SERVER_ERROR, BlockParam, EthContext
from .jsonrpc import Dispatcher, Param
from .models import WIRE, Address, Data, Hash32, Quantity

# execution-apis: a reverted call is error 3 with the revert data.
EXECUTION_REVERTED = 3
# Forks whose transactions carry EIP-7825's gas cap (Amsterdam lifts it).
GAS_CAPPED_FORKS = (Fork.OSAKA, Fork.BPO1, Fork.BPO2)


class CallArgs(BaseModel):
    """A call's message (execution-apis GenericTransaction; fields this node does not use are ignored)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    from_: Address | None = Field(default=None, alias="from")
    to: Address | None = None
    gas: Quantity | None = None
    gas_price: Quantity | None = None
    max_fee_per_gas: Quantity | None = None
    max_priority_fee_per_gas: Quantity | None = None
    value: Quantity = 0
    data: Data | None = None
    input: Data | None = None

    @property
    def payload(self) -> bytes:
        return self.input if self.input is not None else (self.data or b"")

    @property
    def pays_fees(self) -> bool:
        return any(
            fee is not None for fee in (self.gas_price, self.max_fee_per_gas, self.max_priority_fee_per_gas)
        )


class CallFailed(Exception):
    """The message failed: reverted (``output`` is the revert data) or another error."""

    def __init__(self, message: str, output: bytes = b"", reverted: bool = False) -> None:
        super().__init__(message)
        self.output = output
        self.reverted = reverted


class EthStateMethods:
    def __init__(self, eth: EthContext) -> None:
        self.eth = eth

    def register(self, dispatcher: Dispatcher) -> None:
        block = Param("block", BlockParam, required=False)
        dispatcher.register("eth_getBalance", self.get_balance, Param("address", Address), block)
        dispatcher.register(
            "eth_getTransactionCount", self.get_transaction_count, Param("address", Address), block
        )
        dispatcher.register("eth_getCode", self.get_code, Param("address", Address), block)
        dispatcher.register(
            "eth_getStorageAt",
            self.get_storage_at,
            Param("address", Address),
            Param("slot", Hash32 | Quantity),
            block,
        )
        dispatcher.register("eth_call", self.call, Param("transaction", dict[str, Any]), block)
        dispatcher.register("eth_estimateGas", self.estimate_gas, Param("transaction", dict[str, Any]), block)

    def _view(self, block: BlockParam | None) -> HeadView:
        if block in (None, "latest", "pending"):
            return self.eth.synced_view()
        return view_at(self.eth.engine.blockchain, self.eth.resolve(block))

    async def get_balance(self, address: bytes, block: BlockParam | None) -> str:
        return hex(self._view(block).state().get_balance(address))

    async def get_transaction_count(self, address: bytes, block: BlockParam | None) -> str:
        nonce = int(self._view(block).state().get_nonce(address))
        if block == "pending":
            nonce = self.eth.pool.pending_nonce(address, nonce)
        return hex(nonce)

    async def get_code(self, address: bytes, block: BlockParam | None) -> str:
        return "0x" + bytes(self._view(block).state().get_code(address)).hex()

    async def get_storage_at(self, address: bytes, slot: bytes | int, block: BlockParam | None) -> str:
        key = slot if isinstance(slot, int) else int.from_bytes(slot, "big")
        value = self._view(block).state().get_storage(address, key)
        return "0x" + int(value).to_bytes(32, "big").hex()

    async def call(self, raw_args: dict[str, Any], block: BlockParam | None) -> str:
        args, view = _call_args(raw_args), self._view(block)
        gas = args.gas if args.gas is not None else self._gas_ceiling(view)
        try:
            computation = await trio.to_thread.run_sync(run_message, view, args, gas)
        except CallFailed as exc:
            raise _call_error(exc) from None
        return "0x" + bytes(computation.output).hex()

    async def estimate_gas(self, raw_args: dict[str, Any], block: BlockParam | None) -> str:
        args, view = _call_args(raw_args), self._view(block)
        ceiling = args.gas if args.gas is not None else self._gas_ceiling(view)
        try:
            gas = await trio.to_thread.run_sync(estimate, view, args, ceiling)
        except CallFailed as exc:
            raise _call_error(exc) from None
        return hex(gas)

    def _gas_ceiling(self, view: HeadView) -> int:
        ceiling = min(view.next_header.gas_limit, self.eth.rpc_gas_cap)
        return min(ceiling, TX_GAS_LIMIT_CAP) if view.fork in GAS_CAPPED_FORKS else ceiling


def _call_args(raw: dict[str, Any]) -> CallArgs:
    try:
        return CallArgs.model_validate(raw, context=WIRE)
    except PydanticError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise RpcError(INVALID_PARAMS, f"invalid params: transaction: {detail}") from None


def _call_error(exc: CallFailed) -> RpcError:
    if exc.reverted:
        return RpcError(EXECUTION_REVERTED, str(exc), "0x" + exc.output.hex())
    return RpcError(SERVER_ERROR, str(exc))


def run_message(view: HeadView, args: CallArgs, gas: int) -> ComputationAPI:
    """Run ``args`` as a transaction of the block after ``view``'s head on a throw-away state."""
    header: BlockHeaderAPI = view.next_header
    if not args.pays_fees:
        header = header.copy(base_fee_per_gas=0)
    state = view.state(tries=True, header=header)
    sender = args.from_ or b"\x00" * 20
    if args.gas_price is not None:
        fee_cap = tip = args.gas_price
    else:
        fee_cap = args.max_fee_per_gas or 0
        tip = args.max_priority_fee_per_gas if args.max_priority_fee_per_gas is not None else 0
    unsigned = view.transaction_builder().new_unsigned_dynamic_fee_transaction(
        chain_id=view.blockchain.config.chain_id,
        nonce=state.get_nonce(sender),
        max_priority_fee_per_gas=tip,
        max_fee_per_gas=fee_cap,
        gas=gas,
        to=args.to if args.to is not None else CREATE_CONTRACT_ADDRESS,
        value=args.value,
        data=args.payload,
        access_list=[],
    )
    try:
        computation = state.apply_transaction(SpoofTransaction(unsigned, from_=sender))
    except ValidationError as exc:
        raise CallFailed(str(exc)) from None
    if computation.is_error:
        if isinstance(computation.error, Revert):
            raise CallFailed("execution reverted", bytes(computation.output), reverted=True)
        raise CallFailed(f"execution failed: {computation.error!r}")
    return computation


def estimate(view: HeadView, args: CallArgs, ceiling: int) -> int:
    """The least gas the message succeeds with, by binary search up to ``ceiling``.

    The message must succeed at ``ceiling`` (else its failure is the answer);
    below the intrinsic gas it cannot, so the search starts there.
    """
    run_message(view, args, ceiling)
    low, high = 20_999, ceiling  # low fails (below any intrinsic gas), high succeeds
    while high - low > 1:
        middle = (low + high) // 2
        try:
            run_message(view, args, middle)
        except CallFailed:
            low = middle
        else:
            high = middle
    return high
