"""py-evm's state logger, as balrex's state classes give it: looked up once, under py-evm's name."""

from __future__ import annotations

from eth.vm.forks.prague.state import PragueState
from eth_utils import ExtendedDebugLogger

from client.forks.amsterdam.state import AmsterdamStoreState
from client.forks.prague import PragueStoreState


def test_each_state_class_keeps_the_logger_py_evm_names_for_it() -> None:
    for state_class in (PragueStoreState, AmsterdamStoreState):
        state = object.__new__(state_class)  # the logger needs no database
        logger = state.logger
        assert isinstance(logger, ExtendedDebugLogger)
        assert logger.name == f"eth.vm.state.{state_class.__name__}"
        assert object.__new__(state_class).logger is logger
    # py-evm's own property names it the same way.
    assert object.__new__(PragueState).logger.name == "eth.vm.state.PragueState"
