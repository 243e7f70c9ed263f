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
from client.blockchain import BlockRejected, require
from client.forks import BlockExecution
from merkle import ordered_trie_root


def check_executed_bal(
    header: BlockHeaderAPI, execution: BlockExecution, given: BlockAccessList | None
) -> None:
    """The BAL execution produced must be the given one, within the size limit, and hash to the header's."""
    recorded = execution.block_access_list
    if recorded is None:
        return
    same_as_given = given is not None and recorded == given
    if given is not None and not same_as_given:
        difference = first_difference(recorded, given)
        if difference is not None:
            raise BlockRejected(difference.rule, str(difference))
    items, allowed = recorded.item_count(), header.gas_limit // BAL_ITEM_GAS
    require(items <= allowed, "bal-gas-limit-exceeded", f"{items} items > {allowed}")
    if same_as_given:
        return  # the given BAL's hash was checked against the header before execution (prepare)
    actual = keccak(execution.block_access_list_rlp or b"")
    require(
        actual == header.block_access_list_hash,
        "block-access-list-mismatch",
        f"executed BAL hashes to 0x{actual.hex()}; header: 0x{header.block_access_list_hash.hex()}",
    )


def check_execution_results(header: BlockHeaderAPI, execution: BlockExecution) -> None:
    require(
        execution.gas_used == header.gas_used,
        "gas-used-mismatch",
        f"execution used {execution.gas_used}, header says {header.gas_used}",
    )
    receipts_root = ordered_trie_root(receipt.encode() for receipt in execution.receipts)
    require(receipts_root == header.receipt_root, "receipts-root-mismatch", "")
    require(execution.bloom == header.bloom, "logs-bloom-mismatch", "")
    if execution.blob_gas_used is not None:
        require(
            execution.blob_gas_used == header.blob_gas_used,
            "blob-gas-used-mismatch",
            f"execution used {execution.blob_gas_used}, header says {header.blob_gas_used}",
        )
    if execution.requests_hash is not None:
        require(execution.requests_hash == header.requests_hash, "requests-hash-mismatch", "")


def check_state_root(header: BlockHeaderAPI, state_root: bytes) -> None:
    require(
        state_root == header.state_root,
        "state-root-mismatch",
        f"merkleizer gives 0x{state_root.hex()}, header says 0x{header.state_root.hex()}",
    )
