"""Fork classes: py-evm's VMs, running on our store and stopping short of the state root.

Each fork subclasses py-evm's VM of the same name and swaps in a state class
whose account database is :class:`client.account_db.StoreAccountDB`. The
:class:`StoreExecution` mixin adds ``execute_block``: everything py-evm's
``import_block`` does up to, but not including, finalization, so that the
state root is left to ``merkle/`` (the streaming merkleizer, or the
optimistic one on the BAL path). Later forks (Osaka, Amsterdam) subclass these
the way py-evm's own forks subclass each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth._utils.numeric import ceil32
from eth._utils.state import code_is_delegation_designation
from eth.abc import BlockAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS, GAS_TX, SYSTEM_ADDRESS, SYSTEM_MESSAGE_GAS
from eth.vm.forks.cancun import CancunVM, get_total_blob_gas
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth.vm.forks.cancun.state import CancunState
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.constants import (
    CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    CONSOLIDATION_REQUEST_TYPE,
    DEPOSIT_REQUEST_TYPE,
    STANDARD_TOKEN_COST,
    TOTAL_COST_FLOOR_PER_TOKEN,
    WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
    WITHDRAWAL_REQUEST_TYPE,
)
from eth.vm.forks.prague.state import PragueState
from eth.vm.forks.shanghai.constants import INITCODE_WORD_COST
from eth_utils import ValidationError

from bal.deltas import AccountDelta

from .account_db import StoreAccountDB
from .requests import InvalidRequests, deposit_requests


@dataclass(frozen=True)
class BlockExecution:
    """What executing a block produced, for the post-execution checks and the merkleizer."""

    gas_used: int
    blob_gas_used: int | None
    bloom: int
    receipts: tuple[ReceiptAPI, ...]
    requests_hash: bytes | None
    deltas: list[AccountDelta]


class StoreExecution:
    """Mixin for a py-evm VM: execute a block on a StateSource, return deltas, not a root."""

    _receipts: tuple[ReceiptAPI, ...] = ()

    def execute_block(self: Any, block: BlockAPI) -> BlockExecution:
        header = block.header
        running = header.copy(gas_used=0, bloom=0, **self._zeroed_header_fields())
        # The VM's current block is the block itself, so py-evm never loads it from a chain db.
        self._block = block.copy(header=running)
        context = self.create_execution_context(header, self.previous_hashes, self.chain_context)
        self._state = self.get_state_class()(self.chaindb.db, context, header.state_root)
        self.block_preprocessing(block)
        result_header, receipts, _ = self.apply_all_transactions(block.transactions, running)
        withdrawals = getattr(block, "withdrawals", ())
        if withdrawals:
            self.apply_all_withdrawals(withdrawals)
        self._receipts = receipts
        processed = self.block_postprocessing(block.copy(header=result_header))
        return BlockExecution(
            gas_used=result_header.gas_used,
            blob_gas_used=getattr(result_header, "blob_gas_used", None),
            bloom=result_header.bloom,
            receipts=receipts,
            requests_hash=getattr(processed.header, "requests_hash", None),
            deltas=self.state._account_db.account_deltas(),
        )

    def _zeroed_header_fields(self) -> dict[str, int]:
        return {"blob_gas_used": 0}


class StoreState:
    """State mixin: our account database, and the transaction checks py-evm leaves out.

    * The sender must afford ``gas * max_fee_per_gas + blob_gas *
      max_fee_per_blob_gas + value``; py-evm's Cancun check leaves out the value.
    * The priority fee may not exceed the max fee (EIP-1559).
    * The sender must be an EOA (EIP-3607): no code, or only an EIP-7702
      delegation designator.
    * A blob transaction cannot create a contract (EIP-4844: ``to`` is required).
    * The gas limit must cover the intrinsic gas including EIP-3860's initcode
      words (py-evm charges those later, during execution) and, from Prague,
      the EIP-7623 calldata floor.
    """

    account_db_class = StoreAccountDB

    def minimum_gas(self, transaction: SignedTransactionAPI) -> int:
        required = transaction.intrinsic_gas
        if transaction.to == CREATE_CONTRACT_ADDRESS:
            required += INITCODE_WORD_COST * ceil32(len(transaction.data)) // 32
        return required

    def validate_transaction(self: Any, transaction: SignedTransactionAPI) -> None:
        super().validate_transaction(transaction)  # type: ignore[misc]
        required = self.minimum_gas(transaction)
        if transaction.gas < required:
            raise ValidationError(f"gas limit {transaction.gas} is below the intrinsic gas {required}")
        if transaction.type_id == BLOB_TX_TYPE and transaction.to == CREATE_CONTRACT_ADDRESS:
            raise ValidationError("a blob transaction cannot create a contract")
        if transaction.max_priority_fee_per_gas > transaction.max_fee_per_gas:
            raise ValidationError("max priority fee per gas exceeds max fee per gas")
        sender_code = self.get_code(transaction.sender)
        if sender_code and not code_is_delegation_designation(sender_code):
            raise ValidationError("sender is not an EOA: it has code (EIP-3607)")
        max_cost = transaction.gas * transaction.max_fee_per_gas + transaction.value
        if transaction.type_id == BLOB_TX_TYPE:
            max_cost += get_total_blob_gas(transaction) * transaction.max_fee_per_blob_gas
        balance = self.get_balance(transaction.sender)
        if balance < max_cost:
            raise ValidationError(f"sender balance {balance} is below the transaction's max cost {max_cost}")


class OriginIsDepthZero:
    """Computation mixin: the transaction's own message is the one at depth 0.

    py-evm takes any message whose sender is the transaction's origin for the
    origin message. With EIP-7702 a delegated origin also sends nested
    messages, and py-evm then charges the EIP-3860 initcode cost a second time
    for a CREATE they make and forgets the contracts created so far in the
    transaction (which EIP-6780 self-destructs depend on).
    """

    @property
    def is_origin_computation(self: Any) -> bool:
        return self.msg.depth == 0


class CancunStoreComputation(OriginIsDepthZero, CancunComputation):
    pass


class PragueStoreComputation(OriginIsDepthZero, PragueComputation):
    pass


class CancunStoreState(StoreState, CancunState):
    computation_class = CancunStoreComputation


class PragueStoreState(StoreState, PragueState):
    computation_class = PragueStoreComputation

    def minimum_gas(self, transaction: SignedTransactionAPI) -> int:
        """EIP-7623: the gas limit must also cover the calldata floor."""
        zeros = transaction.data.count(0)
        tokens = zeros + STANDARD_TOKEN_COST * (len(transaction.data) - zeros)
        floor = GAS_TX + TOTAL_COST_FLOOR_PER_TOKEN * tokens
        return max(super().minimum_gas(transaction), floor)


class BalrexCancunVM(StoreExecution, CancunVM):
    _state_class = CancunStoreState


class BalrexPragueVM(StoreExecution, PragueVM):
    _state_class = PragueStoreState

    def process_deposit_request_data(self, block: BlockAPI) -> None:
        # py-evm reads receipts back from its chain db and does not check the
        # event layout; EIP-6110 makes a malformed deposit log invalidate the block.
        block.block_requests.append(DEPOSIT_REQUEST_TYPE + deposit_requests(self._receipts))

    def process_withdrawal_request_data(self, block: BlockAPI) -> None:
        self._append_system_requests(block, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_TYPE)

    def process_consolidation_request_data(self, block: BlockAPI) -> None:
        self._append_system_requests(
            block, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_TYPE
        )

    def _append_system_requests(self, block: BlockAPI, address: bytes, request_type: bytes) -> None:
        """A checked system call (EIP-7002/7251): the predeploy must have code and must not fail."""
        code = self.state.get_code(address)
        if not code:
            raise InvalidRequests("system-contract-call-failed", f"0x{address.hex()} has no code")
        computation = self.execute_bytecode(
            origin=SYSTEM_ADDRESS,
            gas_price=0,
            gas=SYSTEM_MESSAGE_GAS,
            to=address,
            sender=SYSTEM_ADDRESS,
            value=0,
            data=b"",
            code=code,
            code_address=address,
        )
        if computation.is_error:
            raise InvalidRequests("system-contract-call-failed", f"call to 0x{address.hex()} failed")
        if computation.output:
            block.block_requests.append(request_type + computation.output)


FORK_VMS: dict[str, type] = {
    "cancun": BalrexCancunVM,
    "prague": BalrexPragueVM,
}
