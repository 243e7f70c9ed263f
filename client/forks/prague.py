"""Prague on our store: py-evm's PragueVM with balrex's mixins, the EIP-7623 floor and checked requests."""

from __future__ import annotations

from hashlib import sha256

from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.constants import GAS_TX
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.constants import (
    CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    CONSOLIDATION_REQUEST_TYPE,
    DEPOSIT_REQUEST_TYPE,
    HISTORY_STORAGE_ADDRESS,
    STANDARD_TOKEN_COST,
    TOTAL_COST_FLOOR_PER_TOKEN,
    WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
    WITHDRAWAL_REQUEST_TYPE,
)
from eth.vm.forks.prague.opcodes import PRAGUE_OPCODES
from eth.vm.forks.prague.state import PragueState
from eth_utils.toolz import merge

from ..requests import deposit_requests
from .creates import CREATE_OPCODES
from .precompiles import NATIVE_PRAGUE_PRECOMPILES
from .store_mixins import StoreComputation, StoreExecution, StoreState, with_header
from .system_calls import SystemCalls


class PragueStoreComputation(StoreComputation, PragueComputation):
    _precompiles = merge(PragueComputation.get_precompiles(), NATIVE_PRAGUE_PRECOMPILES)
    opcodes = merge(PRAGUE_OPCODES, CREATE_OPCODES)


class PragueStoreState(StoreState, PragueState):
    computation_class = PragueStoreComputation

    def minimum_gas(self, transaction: SignedTransactionAPI) -> int:
        """EIP-7623: the gas limit must also cover the calldata floor."""
        zeros = transaction.data.count(0)
        tokens = zeros + STANDARD_TOKEN_COST * (len(transaction.data) - zeros)
        floor = GAS_TX + TOTAL_COST_FLOOR_PER_TOKEN * tokens
        return max(super().minimum_gas(transaction), floor)


class BalrexPragueVM(StoreExecution, SystemCalls, PragueVM):
    _state_class = PragueStoreState

    def pre_block_system_calls(self, header: BlockHeaderAPI) -> list[tuple[bytes, bytes]]:
        """EIP-4788 as in Cancun, then EIP-2935: the parent hash."""
        return [*super().pre_block_system_calls(header), (HISTORY_STORAGE_ADDRESS, header.parent_hash)]

    @staticmethod
    def compute_requests_hash(block: BlockAPI) -> BlockAPI:
        """EIP-7685: the hash over the non-empty requests, on the header (the body is shared, not copied)."""
        digest = sha256()
        for request in block.block_requests:
            if len(request) > 1:
                digest.update(sha256(request).digest())
        return with_header(block, block.header.copy(requests_hash=digest.digest()))

    def process_deposit_request_data(self, block: BlockAPI) -> None:
        # py-evm reads receipts back from its chain db and does not check the
        # event layout; EIP-6110 makes a malformed deposit log invalidate the block.
        block.block_requests.append(DEPOSIT_REQUEST_TYPE + deposit_requests(self._block_logs))

    def process_withdrawal_request_data(self, block: BlockAPI) -> None:
        self._append_system_requests(block, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_TYPE)

    def process_consolidation_request_data(self, block: BlockAPI) -> None:
        self._append_system_requests(
            block, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_TYPE
        )

    def _append_system_requests(self, block: BlockAPI, address: bytes, request_type: bytes) -> None:
        """A checked system call (EIP-7002/7251); a non-empty output is the block's requests of its type."""
        output = self.checked_system_call(address)
        if output:
            block.block_requests.append(request_type + output)
