"""Osaka on our store: Prague plus the Osaka EIPs that change execution.

* EIP-7939 CLZ (opcode 0x1e, gas 5);
* EIP-7951 P256VERIFY and EIP-7823/7883 MODEXP (``osaka_precompiles``);
* EIP-7594: at most six blobs per transaction;
* EIP-7825: a transaction's gas limit is capped at 2**24 (Amsterdam lifts
  the cap, so it is a hook of its own);
* EIP-7934: a block's RLP is at most 8 MiB;
* blob parameters per fork from the chain config (EIP-7840/7892: Osaka, BPO1,
  BPO2 ...) with EIP-7918's reserve price in the excess blob gas.

py-evm reads the blob parameters from module constants; here the VM and its
state class carry them as ``blob_params``, set by ``BalrexOsakaVM.for_chain``.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from eth import constants
from eth._utils.calculations import fake_exponential
from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, SignedTransactionAPI
from eth.vm.forks.cancun import get_total_blob_gas
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE, GAS_PER_BLOB, MIN_BLOB_BASE_FEE
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.opcode import as_opcode
from eth_utils import ValidationError
from eth_utils.toolz import merge

from ..chain_config import BlobParams, ChainConfig
from .osaka_precompiles import P256VERIFY_ADDRESS, modexp_osaka, p256verify
from .prague import BalrexPragueVM, PragueStoreComputation, PragueStoreState
from .store_mixins import StoreComputation

MODEXP_ADDRESS = constants.ZERO_ADDRESS[:-1] + b"\x05"
CLZ = 0x1E
TX_GAS_LIMIT_CAP = 2**24  # EIP-7825
MAX_BLOBS_PER_TX = 6  # EIP-7594
BLOB_BASE_COST = 2**13  # EIP-7918
MAX_RLP_BLOCK_SIZE = 10 * 2**20 - 2 * 2**20  # EIP-7934: 10 MiB less a 2 MiB safety margin


def clz(computation: ComputationAPI) -> None:
    """EIP-7939: the number of leading zero bits of the top word (256 for zero)."""
    value = computation.stack_pop1_int()
    computation.stack_push_int(256 - value.bit_length())


OSAKA_OPCODES = merge(
    copy.deepcopy(PragueStoreComputation.opcodes),
    {CLZ: as_opcode(logic_fn=clz, mnemonic="CLZ", gas_cost=constants.GAS_LOW)},
)


def excess_blob_gas(parent: BlockHeaderAPI, params: BlobParams) -> int:
    """EIP-4844 excess blob gas with EIP-7918's reserve price, under the child's ``params``."""
    parent_excess = getattr(parent, "excess_blob_gas", 0) or 0
    parent_used = getattr(parent, "blob_gas_used", 0) or 0
    target = params.target * GAS_PER_BLOB
    if parent_excess + parent_used < target:
        return 0
    parent_blob_base_fee = blob_base_fee(parent_excess, params)
    if BLOB_BASE_COST * parent.base_fee_per_gas > GAS_PER_BLOB * parent_blob_base_fee:
        # Blobs are priced below their execution cost: the excess only grows.
        return parent_excess + parent_used * (params.max - params.target) // params.max
    return parent_excess + parent_used - target


def blob_base_fee(excess: int, params: BlobParams) -> int:
    return fake_exponential(MIN_BLOB_BASE_FEE, excess, params.base_fee_update_fraction)


class OsakaStoreComputation(StoreComputation, PragueComputation):
    opcodes = OSAKA_OPCODES
    _precompiles = merge(
        PragueStoreComputation.get_precompiles(),
        {MODEXP_ADDRESS: modexp_osaka, P256VERIFY_ADDRESS: p256verify},
    )


class OsakaStoreState(PragueStoreState):
    computation_class = OsakaStoreComputation
    blob_params: BlobParams | None = None

    @property
    def blob_base_fee(self) -> int:
        assert self.blob_params is not None, "Osaka state used without blob parameters"
        return blob_base_fee(self.execution_context.excess_blob_gas, self.blob_params)

    def validate_transaction(self: Any, transaction: SignedTransactionAPI) -> None:
        self.validate_gas_limit_cap(transaction)
        if transaction.type_id == BLOB_TX_TYPE:
            blob_gas = get_total_blob_gas(transaction)
            if blob_gas > self.blob_params.max * GAS_PER_BLOB:
                raise ValidationError(f"blob gas {blob_gas} exceeds the block's maximum")
            blobs = len(transaction.blob_versioned_hashes)
            if blobs > MAX_BLOBS_PER_TX:
                raise ValidationError(f"{blobs} blobs exceed {MAX_BLOBS_PER_TX} per transaction")
        super().validate_transaction(transaction)

    def validate_gas_limit_cap(self, transaction: SignedTransactionAPI) -> None:
        if transaction.gas > TX_GAS_LIMIT_CAP:
            raise ValidationError(f"gas limit {transaction.gas} exceeds the cap {TX_GAS_LIMIT_CAP}")


class BalrexOsakaVM(BalrexPragueVM):
    fork = "osaka"
    _state_class = OsakaStoreState
    blob_params: BlobParams | None = None

    @classmethod
    def for_chain(cls, config: ChainConfig, fork: str) -> type[BalrexOsakaVM]:
        return _with_blob_params(cls, config.blob_params(fork))

    @classmethod
    def validate_block_rlp_size(cls, size: int) -> None:
        if size > MAX_RLP_BLOCK_SIZE:
            raise ValidationError(f"block RLP of {size} bytes exceeds {MAX_RLP_BLOCK_SIZE}")

    def validate_block_blobs(self, block: BlockAPI) -> None:
        params = self.blob_params
        assert params is not None, "Osaka VM used without blob parameters"
        parent = self.chaindb.get_block_header_by_hash(block.header.parent_hash)
        expected = excess_blob_gas(parent, params)
        if block.header.excess_blob_gas != expected:
            raise ValidationError(
                f"excess blob gas is {block.header.excess_blob_gas}, parent gives {expected}"
            )
        used = sum(get_total_blob_gas(tx) for tx in block.transactions)
        if used > params.max * GAS_PER_BLOB:
            raise ValidationError(f"blob gas {used} exceeds the block's maximum")
        if block.header.blob_gas_used != used:
            raise ValidationError(
                f"header blob gas used {block.header.blob_gas_used}, transactions use {used}"
            )


@functools.cache
def _with_blob_params(vm_class: type[BalrexOsakaVM], params: BlobParams) -> type[BalrexOsakaVM]:
    """``vm_class`` with its blob parameters (one class per parameter set, made once)."""
    state_class = vm_class._state_class.configure(blob_params=params)
    return vm_class.configure(blob_params=params, _state_class=state_class)
