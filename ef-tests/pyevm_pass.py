"""The ``pyevm`` pass: the fixtures run by py-evm's own chain, with no balrex code at all.

Why it exists: it is the baseline. balrex executes with py-evm, so when a
fixture fails in a balrex pass the first question is whether py-evm fails it
on its own; this pass answers that, and its failures are the evidence cited in
``known_issues.md``. It is also the peer for timing comparisons: the runner
measures ``outcomes.seconds`` around every pass the same way.

It does what a py-evm user would (``client.tools.pyevm_peer``): a ``Chain`` configured
with the fork's VM from block 0 and the fixture's chain id, created from genesis
(``pre`` and the fields of the decoded ``genesisRLP`` header) on a fresh
``AtomicDB``; then each
block's RLP is decoded with the VM's block class and given to
``Chain.import_block``. A valid block must import; a block the fixture expects
to be invalid must raise (a decode error counts; py-evm's exception types name
no rule, so ``exception_map`` does not judge the reason) and leave the head
where it was. At the end the head must be ``lastblockhash``, every ``postState``
account must match py-evm's state at the head, and that state's root must be
the last valid block's ``stateRoot`` (which also rules out any account or
slot the fixture does not list).
"""

from __future__ import annotations

from typing import Any

import rlp
from eth.abc import BlockAPI, VirtualMachineAPI
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.prague import PragueVM
from eth_utils import to_bytes, to_canonical_address, to_int
from outcomes import Outcomes

from client.tools.pyevm_peer import genesis_header, pyevm_chain

VMS: dict[str, type[VirtualMachineAPI]] = {"Cancun": CancunVM, "Prague": PragueVM}


def _account_state(accounts: dict[str, dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    return {
        to_canonical_address(address): {
            "balance": to_int(hexstr=fields["balance"]),
            "nonce": to_int(hexstr=fields["nonce"]),
            "code": to_bytes(hexstr=fields["code"]),
            "storage": {to_int(hexstr=k): to_int(hexstr=v) for k, v in fields.get("storage", {}).items()},
        }
        for address, fields in accounts.items()
    }


def _decode(block_class: type[BlockAPI], rlp_hex: str) -> BlockAPI:
    return rlp.decode(to_bytes(hexstr=rlp_hex), sedes=block_class)


def run_pyevm_pass(test: dict[str, Any], outcomes: Outcomes) -> None:
    vm_class = VMS[test["network"]]
    block_class = vm_class.get_block_class()
    genesis_rlp = to_bytes(hexstr=test["genesisRLP"])
    genesis = genesis_header(vm_class, genesis_rlp)
    try:
        chain = pyevm_chain(vm_class, to_int(hexstr=test["config"]["chainid"]), genesis_rlp, test["pre"])
    except Exception as exc:
        raise AssertionError(f"genesis: py-evm raised {type(exc).__name__}: {exc}") from exc
    genesis_hash = chain.get_canonical_head().hash
    want_genesis = to_bytes(hexstr=test["genesisBlockHeader"]["hash"])
    assert genesis_hash == want_genesis, f"genesis: hash 0x{genesis_hash.hex()} != 0x{want_genesis.hex()}"

    last_valid = genesis
    for position, fixture_block in enumerate(test["blocks"]):
        where = f"block {position + 1}"
        expected = fixture_block.get("expectException")
        head_before = chain.get_canonical_head().hash
        try:
            block = _decode(block_class, fixture_block["rlp"])
            chain.import_block(block)
        except Exception as exc:
            assert expected is not None, f"{where}: valid block rejected: {type(exc).__name__}: {exc}"
            head = chain.get_canonical_head().hash
            assert head == head_before, f"{where}: rejected block moved the head"
            outcomes.reject(type(exc).__name__, expected, str(exc))
            continue
        assert expected is None, f"{where}: block expected invalid ({expected}) was accepted"
        outcomes.valid_blocks += 1
        last_valid = block.header

    head = chain.get_canonical_head()
    last = to_bytes(hexstr=test["lastblockhash"])
    assert head.hash == last, f"head 0x{head.hash.hex()} is not lastblockhash 0x{last.hex()}"
    state = chain.get_vm(head).state
    for address, want in _account_state(test["postState"]).items():
        name = "0x" + address.hex()
        assert state.get_nonce(address) == want["nonce"], f"{name} nonce"
        assert state.get_balance(address) == want["balance"], (
            f"{name} balance {state.get_balance(address)} != {want['balance']}"
        )
        assert state.get_code(address) == want["code"], f"{name} code"
        for slot, value in want["storage"].items():
            got = state.get_storage(address, slot)
            assert got == value, f"{name} storage slot {slot:#x}: {got:#x} != {value:#x}"
    assert state.state_root == last_valid.state_root, (
        f"state root 0x{state.state_root.hex()} != last valid block's 0x{last_valid.state_root.hex()}"
    )
