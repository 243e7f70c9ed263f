"""The pipeline tests' block helpers: the fixture block and its BAL, another BAL committed to, store dumps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rlp

from bal import BlockAccessList, bal_from_json, bal_hash
from bal.types import AccountChanges
from client.genesis import parse_hex_bytes
from storage import Space, Store

BAL_HASH_FIELD = 21  # index of block_access_list_hash in the Amsterdam header


def block_and_bal(test_case: dict[str, Any]) -> tuple[bytes, BlockAccessList]:
    (block,) = test_case["blocks"]
    return parse_hex_bytes(block["rlp"]), bal_from_json(block["blockAccessList"])


def committing_to(block_rlp: bytes, bal: BlockAccessList) -> bytes:
    """The block with its header's BAL hash replaced by ``bal``'s (so a new block hash)."""
    items = rlp.decode(block_rlp)
    items[0][BAL_HASH_FIELD] = bal_hash(bal)
    return rlp.encode(items)


def dump_store(store: Store) -> dict[Space, dict[bytes, bytes]]:
    return {space: dict(store.iterate(space)) for space in Space}


def replace_account(
    bal: BlockAccessList, pick: Callable[[AccountChanges], bool], change: Callable[[AccountChanges], Any]
) -> BlockAccessList:
    accounts = list(bal.accounts)
    index = next(i for i, a in enumerate(accounts) if pick(a))
    replaced = change(accounts[index])
    if replaced is None:
        del accounts[index]
    else:
        accounts[index] = replaced
    return BlockAccessList(tuple(accounts))
