"""EagerStackProxies: every stack proxy py-evm declares is bound to the computation's own stack."""

from __future__ import annotations

import cached_property
import pytest
from eth.vm.computation import BaseComputation
from eth.vm.message import Message

from client.forks import FORK_VMS

PROXIES = sorted(
    name
    for name, attribute in vars(BaseComputation).items()
    if name.startswith("stack_") and isinstance(attribute, cached_property.cached_property)
)


def test_py_evm_still_proxies_the_stack_through_cached_property() -> None:
    assert PROXIES, "no cached_property stack proxies left in py-evm: EagerStackProxies has nothing to do"


class _StateStub:
    """What a computation's constructor asks of its state (Shanghai warms the coinbase)."""

    coinbase = b"\x03" * 20

    def mark_address_warm(self, address: bytes) -> None:
        pass


class _Context:
    origin = b"\x02" * 20


@pytest.mark.parametrize("fork", ["cancun", "prague", "osaka", "amsterdam"])
def test_each_proxy_is_the_stack_method_itself(fork: str) -> None:
    computation_class = FORK_VMS[fork].get_state_class().computation_class
    message = Message(gas=100_000, to=b"\x01" * 20, sender=b"\x02" * 20, value=0, data=b"", code=b"")
    computation = computation_class(_StateStub(), message, _Context())
    for name in PROXIES:
        bound = vars(computation)[name]  # set when the computation was made, not on first access
        assert bound.__self__ is computation._stack
        assert bound.__func__ is getattr(type(computation._stack), name.removeprefix("stack_"))
