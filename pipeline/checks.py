"""The join's checks (pipeline.md §2): what execution produced against what the block claims.

In the order the design gives: the executed BAL against the given one (or,
with none given, against the header's hash) and the BAL size limit; then gas,
receipts root, bloom, blob gas and requests hash; and last, once the
merkleizer is done, the state root. The first failing check raises
:class:`BlockRejected` naming its rule.
"""

from __future__ import annotations

from eth.abc import BlockHeaderAPI
from eth_hash.auto import keccak

from bal import BlockAccessList
from bal.mismatch import first_difference
from bal.validation import BAL_ITEM_GAS
from merkle import ordered_trie_root

from .chain import BlockExecution
from .verdicts import BlockRejected, Rule, require


def check_executed_bal(
    header: BlockHeaderAPI, execution: BlockExecution, given: BlockAccessList | None
) -> None:
    """The BAL execution produced must be the given one, within the size limit, and hash to the header's."""
    recorded = execution.block_access_list
    if recorded is None:
        return
    # Execution hands back the given BAL itself when it recorded exactly that one
    # (``ChainCore.execute``, ``BalRecorder.matches``): that comparison is not made again here.
    same_as_given = given is not None and recorded is given
    if given is not None and not same_as_given:
        difference = first_difference(recorded, given)
        if difference is not None:
            raise BlockRejected.from_bal_error(difference)
    items, allowed = recorded.item_count(), header.gas_limit // BAL_ITEM_GAS
    require(items <= allowed, Rule.BAL_GAS_LIMIT_EXCEEDED, f"{items} items > {allowed}")
    if same_as_given:
        return  # the given BAL's hash was checked against the header before execution (prepare)
    actual = keccak(execution.block_access_list_rlp or b"")
    expected = _later_fork_field(header, "block_access_list_hash")
    require(
        actual == expected,
        Rule.BLOCK_ACCESS_LIST_MISMATCH,
        f"executed BAL hashes to 0x{actual.hex()}; header: 0x{expected.hex()}",
    )


def check_execution_results(header: BlockHeaderAPI, execution: BlockExecution) -> None:
    require(
        execution.gas_used == header.gas_used,
        Rule.GAS_USED_MISMATCH,
        f"execution used {execution.gas_used}, header says {header.gas_used}",
    )
    receipts_root = ordered_trie_root(execution.encoded_receipts)
    require(receipts_root == header.receipt_root, Rule.RECEIPTS_ROOT_MISMATCH, "")
    require(execution.bloom == header.bloom, Rule.LOGS_BLOOM_MISMATCH, "")
    if execution.blob_gas_used is not None:
        require(
            execution.blob_gas_used == header.blob_gas_used,
            Rule.BLOB_GAS_USED_MISMATCH,
            f"execution used {execution.blob_gas_used}, header says {header.blob_gas_used}",
        )
    if execution.requests_hash is not None:
        expected_requests = _later_fork_field(header, "requests_hash")
        require(execution.requests_hash == expected_requests, Rule.REQUESTS_HASH_MISMATCH, "")


def check_state_root(header: BlockHeaderAPI, state_root: bytes) -> None:
    require(
        state_root == header.state_root,
        Rule.STATE_ROOT_MISMATCH,
        f"merkleizer gives 0x{state_root.hex()}, header says 0x{header.state_root.hex()}",
    )


def _later_fork_field(header: BlockHeaderAPI, name: str) -> bytes:
    """A hash field that only later forks' headers have (py-evm's BlockHeaderAPI stops at Cancun's)."""
    value = getattr(header, name)
    if not isinstance(value, bytes):
        raise TypeError(f"a {type(header).__name__} has no {name}")
    return value
