"""Cancun on our store: py-evm's CancunVM with balrex's mixins and CREATE/CREATE2 (``creates``)."""

from __future__ import annotations

from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.opcodes import CANCUN_OPCODES
from eth.vm.forks.cancun.state import CancunState
from eth_utils.toolz import merge

from .creates import CREATE_OPCODES
from .precompiles import NATIVE_CANCUN_PRECOMPILES
from .store_mixins import StoreComputation, StoreExecution, StoreState
from .system_calls import SystemCalls


class CancunStoreComputation(StoreComputation, CancunComputation):
    _precompiles = merge(CancunComputation.get_precompiles(), NATIVE_CANCUN_PRECOMPILES)
    opcodes = merge(CANCUN_OPCODES, CREATE_OPCODES)


class CancunStoreState(StoreState, CancunState):
    computation_class = CancunStoreComputation


class BalrexCancunVM(StoreExecution, SystemCalls, CancunVM):
    _state_class = CancunStoreState
