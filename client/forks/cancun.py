"""Cancun on our store: py-evm's CancunVM with balrex's mixins."""

from __future__ import annotations

from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth_utils.toolz import merge

from .precompiles import NATIVE_CANCUN_PRECOMPILES
from .store_mixins import OriginIsDepthZero, StoreExecution, StoreState


class CancunStoreComputation(OriginIsDepthZero, CancunComputation):
    _precompiles = merge(CancunComputation.get_precompiles(), NATIVE_CANCUN_PRECOMPILES)


class CancunStoreState(StoreState, CancunState):
    computation_class = CancunStoreComputation


class BalrexCancunVM(StoreExecution, CancunVM):
    _state_class = CancunStoreState
