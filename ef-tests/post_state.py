"""Comparing the store's state with a fixture's ``postState``, field by field.

Both views of the state are checked: the flat state (what execution reads) and
the state trie under the head's root (the commitment), so a pass cannot get the
root right while leaving the flat state wrong, or the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_hash.auto import keccak

from client.genesis import parse_hex_bytes, parse_quantity
from merkle import NodeOverlay, PatriciaTrie
from storage import FlatState, Store


def assert_post_state(store: Store, state_root: bytes, post: Mapping[str, Mapping[str, Any]]) -> None:
    flat = FlatState(store)
    trie = PatriciaTrie(NodeOverlay(store), state_root)
    expected_addresses = {parse_hex_bytes(a) for a in post}
    stored_addresses = set(flat.addresses())
    extra = sorted("0x" + a.hex() for a in stored_addresses - expected_addresses)
    missing = sorted("0x" + a.hex() for a in expected_addresses - stored_addresses)
    assert not extra and not missing, f"accounts differ: extra {extra[:5]}, missing {missing[:5]}"
    for address_hex, want in post.items():
        address = parse_hex_bytes(address_hex)
        record = flat.account(address)
        assert record is not None
        code = parse_hex_bytes(want["code"])
        assert record.nonce == parse_quantity(want["nonce"]), f"{address_hex} nonce"
        assert record.balance == parse_quantity(want["balance"]), f"{address_hex} balance"
        assert record.code_hash == keccak(code), f"{address_hex} code hash"
        assert flat.code(record.code_hash) == code, f"{address_hex} code not stored"
        want_storage = {
            parse_quantity(k): parse_quantity(v) for k, v in want.get("storage", {}).items()
        }
        want_storage = {k: v for k, v in want_storage.items() if v}
        got_storage = dict(flat.storage_items(address))
        assert got_storage == want_storage, f"{address_hex} storage: {got_storage} != {want_storage}"
        assert trie.get(keccak(address)) == record.encode(), f"{address_hex}: trie and flat state differ"
