"""Two views of an executed block in the neutral model, and how they differ.

* **execution view**: per transaction, every key execution touched. Reads:
  an account key for each address it touched (balance, nonce, code,
  existence), a storage key for each slot it read or wrote. Writes: the keys
  whose value it changed (the executed BAL's entries at its
  ``blockAccessIndex``; a write that leaves the value as it was is a read,
  as in EIP-7928).
* **BAL view**: what the block access list alone says. Its changes carry a
  ``blockAccessIndex``, so each transaction's writes are known; its reads
  (``storage_reads``, and addresses listed without changes) carry none, so
  they cannot be given to a transaction and are left out: the BAL view sees
  write/write conflicts only, a lower bound of the execution view.

The fee recipient's balance is written by every transaction (priority fees):
kept, it makes every block a chain. Parallel engines credit it after the fact,
so by default its account key is left out of both views (``keep_coinbase``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bal.types import BlockAccessList

from .analysis import Conflicts
from .execution import ObservedBlock
from .model import BlockAccesses, Key, TxAccesses

EXAMPLES = 10


def account_key(address: bytes) -> Key:
    return ("0x" + address.hex(), None)


def storage_key(address: bytes, slot: int) -> Key:
    return ("0x" + address.hex(), "0x" + f"{slot:064x}")


def dropped_keys(coinbase: bytes, keep_coinbase: bool) -> set[Key]:
    """The keys left out of every view: the fee recipient's account key, unless kept."""
    return set() if keep_coinbase else {account_key(coinbase)}


def bal_writes(bal: BlockAccessList) -> dict[int, set[Key]]:
    """Keys changed per ``blockAccessIndex``: account keys for balance/nonce/code, storage keys for slots."""
    writes: dict[int, set[Key]] = defaultdict(set)
    for account in bal.accounts:
        for change in (*account.balance_changes, *account.nonce_changes, *account.code_changes):
            writes[change.block_access_index].add(account_key(account.address))
        for slot in account.storage_changes:
            for storage_change in slot.changes:
                writes[storage_change.block_access_index].add(storage_key(account.address, slot.slot))
    return writes


def bal_unindexed_reads(bal: BlockAccessList) -> int:
    """Keys the BAL names without any index: storage reads, and accounts listed without changes."""
    reads = sum(len(account.storage_reads) for account in bal.accounts)
    untouched = sum(
        1
        for account in bal.accounts
        if not (
            account.balance_changes
            or account.nonce_changes
            or account.code_changes
            or account.storage_changes
        )
    )
    return reads + untouched


@dataclass(frozen=True)
class BlockViews:
    execution: BlockAccesses
    bal: BlockAccesses
    #: keys named by the BAL without an index (left out of the BAL view)
    bal_unindexed_reads: int


def block_views(observed: ObservedBlock, keep_coinbase: bool = False) -> BlockViews:
    """The execution view and the BAL view of one observed block."""
    writes = bal_writes(observed.block_access_list)
    dropped = dropped_keys(observed.coinbase, keep_coinbase)
    execution, bal = [], []
    for position, (tx_hash, gas) in enumerate(zip(observed.tx_hashes, observed.gas_used, strict=True)):
        unit = observed.units[position + 1]
        reads = {account_key(address) for address in unit.touched}
        reads |= {storage_key(address, slot) for address, slot in unit.storage}
        changed = frozenset(writes.get(position + 1, set()) - dropped)
        executed_reads = frozenset(reads - dropped)
        execution.append(
            TxAccesses(
                position, "0x" + tx_hash.hex(), gas, executed_reads, changed, len(executed_reads | changed)
            )
        )
        bal.append(TxAccesses(position, "0x" + tx_hash.hex(), gas, frozenset(), changed, len(changed)))
    return BlockViews(
        BlockAccesses(observed.number, tuple(execution)),
        BlockAccesses(observed.number, tuple(bal)),
        bal_unindexed_reads(observed.block_access_list),
    )


def _key_order(key: Key) -> tuple[str, str]:
    """Account keys first within an address, then its slots."""
    return key[0], key[1] or ""


def compare_views(
    execution: Sequence[Conflicts], bal: Sequence[Conflicts], bal_unindexed_reads: int
) -> dict[str, Any]:
    """Keys and conflicting pairs one view has and the other has not, summed over transactions."""
    counts: dict[str, int] = defaultdict(int)
    examples: list[dict[str, Any]] = []
    for seen, other in zip(execution, bal, strict=True):
        for mine, theirs in zip(seen.block.transactions, other.block.transactions, strict=True):
            for side, keys, missing in (
                ("execution", mine.keys, theirs.keys),
                ("bal", theirs.keys, mine.keys),
            ):
                # sorted: the examples are the same on every run (set order follows string hashing)
                for key in sorted(keys - missing, key=_key_order):
                    kind = "account" if key[1] is None else "storage"
                    access = (
                        "write" if key in (mine.writes if side == "execution" else theirs.writes) else "read"
                    )
                    counts[f"{kind}_{access}_keys_{side}_only"] += 1
                    if len(examples) < EXAMPLES:
                        examples.append(
                            {
                                "block_number": seen.block.number,
                                "tx_index": mine.tx_index,
                                "key": key[0] if key[1] is None else f"{key[0]}:{key[1]}",
                                "access": access,
                                "seen_by": side,
                            }
                        )
        for mask, other_mask in zip(seen.conflict_masks, other.conflict_masks, strict=True):
            counts["conflict_pairs_execution_only_x2"] += (mask & ~other_mask).bit_count()
            counts["conflict_pairs_bal_only_x2"] += (other_mask & ~mask).bit_count()
    names = [
        f"{kind}_{access}_keys_{side}_only"
        for side in ("execution", "bal")
        for kind in ("account", "storage")
        for access in ("read", "write")
    ]
    return {
        **{name: counts[name] for name in names},
        # each pair is seen from both of its transactions
        "conflict_pairs_execution_only": counts["conflict_pairs_execution_only_x2"] // 2,
        "conflict_pairs_bal_only": counts["conflict_pairs_bal_only_x2"] // 2,
        "bal_unindexed_read_keys": bal_unindexed_reads,
        "examples": examples,
    }
