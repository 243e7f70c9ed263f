"""System calls (EIP-4788, 2935, 7002, 7251): the contract's code runs, as in the spec.

py-evm writes the EIP-4788 beacon root and the EIP-2935 parent hash straight
into storage, and only when the contract holds the canonical code. The spec
(``process_unchecked_system_transaction``) instead runs whatever code is at
the address as a transaction of its own: from ``SYSTEM_ADDRESS`` with 30
million gas, its own warm sets and original storage values, and its changes
thrown away when it fails. That matters from Amsterdam on, where EIP-8037
prices a new slot from the block's gas limit: at a large enough limit the
SSTORE is out of gas, so the slot is only read.

* unchecked (EIP-4788, 2935, before the transactions): no code, or a failing
  call, changes nothing and the block stays valid;
* checked (EIP-7002, 7251, after them): the contract must have code and the
  call must succeed, else the block is invalid.
"""

from __future__ import annotations

from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI
from eth.constants import SYSTEM_ADDRESS, SYSTEM_MESSAGE_GAS
from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS

from pipeline.verdicts import BlockRejected, Rule


class SystemCalls:
    """VM mixin (Cancun on): run the system contracts' code instead of py-evm's direct writes."""

    def pre_block_system_calls(self, header: BlockHeaderAPI) -> list[tuple[bytes, bytes]]:
        """(address, input) of each unchecked call before the transactions: EIP-4788 from Cancun."""
        return [(BEACON_ROOTS_ADDRESS, header.parent_beacon_block_root)]

    def block_preprocessing(self, block: BlockAPI) -> None:
        for address, data in self.pre_block_system_calls(block.header):
            self.unchecked_system_call(address, data)

    def system_call(self: Any, address: bytes, data: bytes) -> ComputationAPI:
        """Run ``address``'s code as a system transaction; its changes stay only if it succeeds."""
        state = self.state
        # A transaction of its own: fresh warm sets, and the original values are the current ones.
        state.lock_changes()
        code = state.get_code(address)
        snapshot = state.snapshot()
        computation: ComputationAPI = self.execute_bytecode(
            origin=SYSTEM_ADDRESS,
            gas_price=0,
            gas=SYSTEM_MESSAGE_GAS,
            to=address,
            sender=SYSTEM_ADDRESS,
            value=0,
            data=data,
            code=code,
            code_address=address,
        )
        if computation.is_error:
            state.revert(snapshot)
        else:
            state.commit(snapshot)
        return computation

    def unchecked_system_call(self, address: bytes, data: bytes) -> None:
        """EIP-4788/2935: whatever the call does, the block stays valid (a failure changes nothing)."""
        self.system_call(address, data)

    def checked_system_call(self: Any, address: bytes) -> bytes:
        """EIP-7002/7251: the contract must have code and the call must succeed; its output."""
        if not self.state.get_code(address):
            raise BlockRejected(Rule.SYSTEM_CONTRACT_CALL_FAILED, f"0x{address.hex()} has no code")
        computation = self.system_call(address, b"")
        if computation.is_error:
            raise BlockRejected(
                Rule.SYSTEM_CONTRACT_CALL_FAILED, f"call to 0x{address.hex()} failed: {computation.error}"
            )
        return computation.output
