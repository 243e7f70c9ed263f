"""py-evm's own chain, started from a genesis block and its allocation: the peer balrex is measured against.

A Python user who wants to validate blocks would otherwise reach for py-evm's
``Chain.import_block`` on its in-memory database. The ``pyevm`` pass of the EF
runner and the ``py_evm`` run of import-bench both start that chain here, the
way a py-evm user would: ``Chain.configure`` with one VM from block 0 and the
chain id, then ``from_genesis`` with the genesis header's fields and the
allocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI, ChainAPI, VirtualMachineAPI
from eth.chains.base import Chain
from eth.db.atomic import AtomicDB

from client.genesis import alloc_to_deltas

# Genesis header fields py-evm fills in itself and does not accept as parameters.
_IMPLIED = ("parent_hash", "uncles_hash", "bloom", "block_number", "gas_used")


def pyevm_state(alloc: Mapping[str, Mapping[str, Any]]) -> dict[bytes, dict[str, Any]]:
    """An allocation (geth ``alloc`` or fixture ``pre``) in the form ``from_genesis`` takes."""
    return {
        delta.address: {
            "balance": delta.balance or 0,
            "nonce": delta.nonce or 0,
            "code": delta.code or b"",
            "storage": dict(delta.storage),
        }
        for delta in alloc_to_deltas(alloc)
    }


def genesis_header(vm_class: type[VirtualMachineAPI], genesis_rlp: bytes) -> BlockHeaderAPI:
    return rlp.decode(genesis_rlp, sedes=vm_class.get_block_class()).header


def pyevm_chain(
    vm_class: type[VirtualMachineAPI],
    chain_id: int,
    genesis_rlp: bytes,
    alloc: Mapping[str, Mapping[str, Any]],
) -> ChainAPI:
    """py-evm's chain running ``vm_class`` from block 0, at the genesis ``genesis_rlp`` commits to."""
    header = genesis_header(vm_class, genesis_rlp)
    params = {k: v for k, v in header.as_dict().items() if k not in _IMPLIED}
    chain_class = Chain.configure("PeerChain", vm_configuration=((0, vm_class),), chain_id=chain_id)
    return chain_class.from_genesis(AtomicDB(), params, pyevm_state(alloc))
