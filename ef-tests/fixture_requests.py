"""The execution requests (EIP-7685) of a ``blockchain_test``'s blocks, found by executing them here.

Why: ``engine_newPayloadV4/V5`` carries a block's requests, but a
``blockchain_test`` file holds only their commitment (the header's
``requestsHash``). The requests are pinned by it, so the harness may derive
candidates and send them only if they hash to it: it builds the test's chain
in this process with balrex's own pipeline (memory store, streaming path) and,
before importing each block, executes it once more on its parent state with a
VM that keeps the requests its post-processing collects (deposits from the
receipts' logs, withdrawal and consolidation requests from the system calls).
What the node is then sent is checked against the header's commitment by the
caller; a candidate that does not match is the harness's failure, not the
node's, and never a skip.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import VMError
from eth_utils import ValidationError, to_bytes

from client.block_builder import keeping_requests
from client.blockchain import Blockchain
from client.chain_config import config_from_fixture
from pipeline import BlockRejected, UnknownParent, import_block_sync
from pipeline.state_source import StateSource
from storage import MemoryStore


class RequestsNotDerived(AssertionError):
    """A block the fixture expects valid does not execute here: the harness has no requests to send."""


def executed_requests(test: dict[str, Any]) -> list[list[bytes] | None]:
    """Per block, the non-empty requests its execution collects; None where it cannot execute.

    A block the fixture expects invalid is executed for its candidates but not
    imported; one that fails to execute has none (None).
    """
    chain = Blockchain(MemoryStore(), config_from_fixture(test["network"], test["config"]))
    chain.init_genesis(test["pre"], to_bytes(hexstr=test["genesisRLP"]))
    found: list[list[bytes] | None] = []
    for position, block in enumerate(test["blocks"], start=1):
        block_rlp = to_bytes(hexstr=block["rlp"])
        valid = "expectException" not in block
        try:
            found.append(_requests_of(chain, block_rlp))
            if valid:
                chain.set_forkchoice(import_block_sync(chain, block_rlp).block_hash)
        except (BlockRejected, UnknownParent, ValidationError, VMError) as exc:
            if valid:
                raise RequestsNotDerived(f"block {position} does not execute here: {exc}") from None
            found.append(None)
    return found


def _requests_of(chain: Blockchain, block_rlp: bytes) -> list[bytes]:
    prepared = chain.decode(block_rlp)
    source = StateSource(
        chain.store, prepared.parent.state_root, parent_has_flat_state=prepared.parent_has_flat_state
    )
    vm = chain.block_vm(keeping_requests(prepared.vm_class), prepared.block.header, source)
    vm.execute_block(prepared.block, with_deltas=False)
    return [request for request in vm.block_requests if len(request) > 1]
