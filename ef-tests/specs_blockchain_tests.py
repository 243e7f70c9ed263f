"""EF blockchain fixtures through the Python execution specs' ``state_transition``.

    ef-tests/.specs-venv/bin/python ef-tests/specs_blockchain_tests.py --fixtures DIR \\
        [--only FRAGMENT ...] [--every N] [--first N] [--json FILE]

The reference side of ``compare_specs.py`` (``make ef-compare-specs``). It runs
in the specs' own virtualenv (``ethereum-execution``, pinned in
``specs-requirements.txt``; none of balrex is importable there) and imports
nothing of this repository but ``fixture_files``, whose ``select_files`` picks
the files, so both sides of the comparison run the same tests in the same
order.

Every test does the work balrex's ``streaming`` pass does on it: the genesis
header must hash to the fixture's and encode to its ``genesisRLP``; every block
is decoded from its RLP and given to the fork's ``state_transition`` (which
checks the header against the parent, executes the block and checks the state,
transactions, receipts and withdrawals roots, the bloom, the gas and the
requests hash); a block the fixture expects to be invalid must be rejected (the
specs raise ``EthereumException`` or an RLP error), on a copy of the state so the
next blocks see the state before it, as a client's discarded batch leaves it; at
the end the head must hash to ``lastblockhash`` and the state must equal
``postState``. The crypto is whatever the specs package uses (py_ecc for
BLS12-381, alt_bn128 and KZG): that is what "the specs' time" means.

The counts and seconds go to stdout and, with ``--json``, to a file.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ethereum.crypto.hash import keccak256  # noqa: E402
from ethereum.exceptions import EthereumException  # noqa: E402
from ethereum.utils.hexadecimal import hex_to_bytes  # noqa: E402
from ethereum_rlp import rlp  # noqa: E402
from ethereum_rlp.exceptions import RLPException  # noqa: E402
from ethereum_spec_tools.evm_tools.loaders.fixture_loader import Load  # noqa: E402
from ethereum_spec_tools.forks import Hardfork  # noqa: E402
from ethereum_types.numeric import U64  # noqa: E402
from fixture_files import select_files  # noqa: E402

# What the specs raise for a block they reject: their own exceptions and RLP decoding errors.
REJECTIONS = (EthereumException, RLPException)


class SpecsTestFailure(Exception):
    """A fixture's expectation the specs did not meet (or a network they cannot run)."""


@functools.cache
def fork_loader(network: str) -> Load:
    """The specs' fixture loader for a fixture's ``network`` (``Prague``, ``Osaka``, ``BPO1``).

    Transition networks (``PragueToOsakaAtTime15k``) name no single fork of the
    specs and are a failure here, not a skip: the comparison must not drop tests.
    """
    for fork in Hardfork.discover():
        if fork.title_case_name == network:
            return Load(fork)
    raise SpecsTestFailure(f"network {network!r} is no single fork of the specs")


def _hex_hash(header: Any) -> bytes:
    return keccak256(rlp.encode(header))


def _copied_state(load: Load, state: Any) -> Any:
    """A copy of the specs' state to try a block on, made as the specs snapshot a state.

    ``state_transition`` changes the state it is given even when it then rejects
    the block; the copy keeps the parent's state for the blocks after a rejected
    one. The tries are copied one level deep, as ``begin_transaction`` does (their
    values are immutable); the specs' own snapshot is not used because a pending
    snapshot changes when ``created_accounts`` is cleared between transactions.
    """
    trie = load.fork.hardfork.module("trie")
    return load.fork.hardfork.module("state").State(
        _main_trie=trie.copy_trie(state._main_trie),
        _storage_tries={address: trie.copy_trie(tries) for address, tries in state._storage_tries.items()},
    )


def _import_block(load: Load, chain: Any, json_block: dict[str, Any]) -> None:
    """Decode one block from its RLP and apply it to ``chain`` (``state_transition`` mutates it)."""
    block, header_hash, block_rlp = load.json_to_block(json_block)
    if rlp.encode(block) != block_rlp:
        raise SpecsTestFailure("the decoded block does not re-encode to its RLP")
    given_hash = json_block.get("blockHeader", {}).get("hash")
    if given_hash is not None and header_hash != hex_to_bytes(given_hash):
        raise SpecsTestFailure("block hash differs from the fixture's")
    load.fork.state_transition(chain, block)


def run_test(test: dict[str, Any]) -> int:
    """Run one blockchain test; return the number of blocks the specs accepted.

    Raises ``SpecsTestFailure`` naming the first expectation that does not hold.
    """
    load = fork_loader(test["network"])
    genesis_header = load.json_to_header(test["genesisBlockHeader"])
    if _hex_hash(genesis_header) != hex_to_bytes(test["genesisBlockHeader"]["hash"]):
        raise SpecsTestFailure("genesis hash")
    empty_bodies: list[tuple[()]] = [(), ()]
    if hasattr(genesis_header, "withdrawals_root"):
        empty_bodies.append(())
    genesis = load.fork.Block(genesis_header, *empty_bodies)
    if rlp.encode(genesis) != hex_to_bytes(test["genesisRLP"]):
        raise SpecsTestFailure("genesis RLP")
    chain_id = int(test.get("config", {}).get("chainid", "0x1"), 16)
    chain = load.fork.BlockChain(
        blocks=[genesis], state=load.json_to_state(test["pre"]), chain_id=U64(chain_id)
    )

    accepted = 0
    for position, json_block in enumerate(test["blocks"], start=1):
        expected = json_block.get("expectException")
        if expected is None:
            try:
                _import_block(load, chain, json_block)
            except REJECTIONS as exc:
                raise SpecsTestFailure(f"block {position}: valid block rejected: {exc!r}") from exc
            accepted += 1
            continue
        trial = load.fork.BlockChain(
            blocks=list(chain.blocks), state=_copied_state(load, chain.state), chain_id=chain.chain_id
        )
        try:
            _import_block(load, trial, json_block)
        except REJECTIONS:
            continue
        raise SpecsTestFailure(f"block {position}: block expected invalid ({expected}) was accepted")

    if _hex_hash(chain.blocks[-1].header) != hex_to_bytes(test["lastblockhash"]):
        raise SpecsTestFailure("head is not lastblockhash")
    if chain.state != load.json_to_state(test["postState"]):
        raise SpecsTestFailure("state differs from postState")
    return accepted


def run_files(files: list[Path], root: Path) -> dict[str, Any]:
    """Every test of every file: counts, failures (test id and reason) and seconds."""
    passed = 0
    failures: list[str] = []
    valid_blocks = 0
    started = time.perf_counter()
    for path in files:
        with path.open() as f:
            tests = json.load(f)
        relative = str(path.relative_to(root)).removesuffix(".json")
        for name, test in tests.items():
            try:
                valid_blocks += run_test(test)
            except Exception as exc:  # every failure is counted and named, none stops the run
                failures.append(f"{relative}::{name}: {type(exc).__name__}: {str(exc)[:200]}")
            else:
                passed += 1
    return {
        "files": len(files),
        "passed": passed,
        "failed": len(failures),
        "valid_blocks": valid_blocks,
        "seconds": time.perf_counter() - started,
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fixtures", type=Path, required=True, help="fixture directory or JSON file")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--first", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the counts here")
    args = parser.parse_args()

    root, files = select_files(args.fixtures, args.only, args.every, args.first)
    result = run_files(files, root)
    for failure in result["failures"]:
        print(f"FAILED {failure}")
    print(f"specs: {result['passed']} passed, {result['failed']} failed in {result['seconds']:.2f}s")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
