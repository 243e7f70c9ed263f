"""The pre-execution oracle: access sets predicted from a transaction's envelope alone.

A scheduler that has no BAL can only guess, before running a transaction, what
it will touch, from what the signed transaction itself names:

* the sender (nonce and balance change): a write of its account key;
* the recipient: a write when value moves, a read otherwise (its code is
  loaded); for a creation, the new contract's address (sender and nonce), a write;
* the EIP-2930 access list: each address a read of its account key, each slot
  a write of its storage key (the list does not say which, so the safe guess);
* the EIP-7702 authorizations: each authority (recovered from its signature)
  a write (its nonce and code change).

Measured against the execution view's exact sets (the same coinbase rule:
its account key is left out unless kept), per transaction and summed: key
precision (how many predicted keys execution touched) and recall (how many
touched keys were predicted), and the same for conflicting pairs, which is
what a scheduler needs. Storage recall is where the envelope is blind: a token
transfer names the token, never the balance slots it moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.vm.forks.prague.constants import MAGIC
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_typing import Address

from .analysis import Conflicts
from .dossier import percent
from .model import BlockAccesses, Key, TxAccesses
from .views import account_key, storage_key


def authority(authorization: Any) -> bytes | None:
    """The account an EIP-7702 authorization delegates (None when its signature recovers nothing)."""
    message = MAGIC + rlp.encode([authorization.chain_id, authorization.address, authorization.nonce])
    try:
        signature = Signature(vrs=(authorization.y_parity, authorization.r, authorization.s))
        return bytes(signature.recover_public_key_from_msg(message).to_canonical_address())
    except (BadSignature, ValueError):
        return None


def _listed(transaction: Any, field: str) -> Sequence[Any]:
    """A list field of the envelope; empty for a transaction type without it (py-evm raises then)."""
    try:
        return getattr(transaction, field)  # type: ignore[no-any-return]
    except (AttributeError, NotImplementedError):
        return ()


def predicted_accesses(transaction: Any, sender: bytes | None = None) -> tuple[set[Key], set[Key]]:
    """(reads, writes) the envelope of ``transaction`` (py-evm's signed transaction) announces.

    ``sender``: the sender the execution recovered, when known (recovering it again costs a
    signature recovery and the envelope's signing hash per transaction).
    """
    sender = bytes(transaction.sender) if sender is None else sender
    writes = {account_key(sender)}
    reads: set[Key] = set()
    if transaction.to:
        (writes if transaction.value else reads).add(account_key(bytes(transaction.to)))
    else:
        writes.add(account_key(bytes(generate_contract_address(Address(sender), transaction.nonce))))
    for address, slots in _listed(transaction, "access_list"):
        reads.add(account_key(bytes(address)))
        writes.update(storage_key(bytes(address), slot) for slot in slots)
    for authorization in _listed(transaction, "authorization_list"):
        delegating = authority(authorization)
        if delegating is not None:
            writes.add(account_key(delegating))
    return reads - writes, writes


def oracle_block(
    number: int,
    transactions: Sequence[Any],
    senders: Sequence[bytes],
    exact: BlockAccesses,
    dropped: set[Key],
) -> BlockAccesses:
    """The oracle's view of a block, aligned with its execution view ``exact`` (same hashes and gas)."""
    predicted = []
    for transaction, sender, seen in zip(transactions, senders, exact.transactions, strict=True):
        announced_reads, announced_writes = predicted_accesses(transaction, sender)
        reads, writes = frozenset(announced_reads - dropped), frozenset(announced_writes - dropped)
        predicted.append(
            TxAccesses(seen.tx_index, seen.tx_hash, seen.gas_used, reads, writes, len(reads | writes))
        )
    return BlockAccesses(number, tuple(predicted))


def _precision_recall(true: int, predicted: int, exact: int) -> dict[str, Any]:
    return {
        "predicted": predicted,
        "exact": exact,
        "both": true,
        "precision_percentage": percent(true, predicted) if predicted else None,
        "recall_percentage": percent(true, exact) if exact else None,
    }


def _is_kind(key: Key, kind: str) -> bool:
    """Whether ``key`` counts for ``kind``: "all", "account" (no slot) or "storage"."""
    return kind == "all" or (key[1] is None) == (kind == "account")


def oracle_quality(oracle: Iterable[Conflicts], exact: Iterable[Conflicts]) -> dict[str, Any]:
    """Precision and recall of the oracle's keys (all, account, storage) and conflicting pairs."""
    counts = {kind: [0, 0, 0] for kind in ("all", "account", "storage", "pairs")}
    for guessed, seen in zip(oracle, exact, strict=True):
        for mine, truth in zip(guessed.block.transactions, seen.block.transactions, strict=True):
            for kind in ("all", "account", "storage"):
                predicted = {key for key in mine.keys if _is_kind(key, kind)}
                touched = {key for key in truth.keys if _is_kind(key, kind)}
                counts[kind][0] += len(predicted & touched)
                counts[kind][1] += len(predicted)
                counts[kind][2] += len(touched)
        for position, (mask, exact_mask) in enumerate(
            zip(guessed.conflict_masks, seen.conflict_masks, strict=True)
        ):
            earlier = (1 << position) - 1  # each pair once, from its later transaction
            counts["pairs"][0] += (mask & exact_mask & earlier).bit_count()
            counts["pairs"][1] += (mask & earlier).bit_count()
            counts["pairs"][2] += (exact_mask & earlier).bit_count()
    return {
        "keys": _precision_recall(*counts["all"]),
        "account_keys": _precision_recall(*counts["account"]),
        "storage_keys": _precision_recall(*counts["storage"]),
        "conflict_pairs": _precision_recall(*counts["pairs"]),
    }
