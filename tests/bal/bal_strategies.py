"""Hypothesis strategies, builders and an independent reference encoder for the bal/ tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bal.types import (
    AccountChanges,
    BalanceChange,
    BlockAccessList,
    CodeChange,
    NonceChange,
    SlotChanges,
    StorageChange,
)

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
U256_MAX = 2**256 - 1

# One settings object for every property test. The long runs are marked slow:
# `make unit` leaves them out, `make test` runs them.
_FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_QUICK_SETTINGS = settings(_FUZZ_SETTINGS, max_examples=150)


def FUZZ(test: Callable[..., None]) -> Callable[..., None]:  # noqa: N802 (used like a settings object)
    """300 examples; a slow test."""
    marked: Callable[..., None] = pytest.mark.slow(_FUZZ_SETTINGS(test))
    return marked


def QUICK(test: Callable[..., None]) -> Callable[..., None]:  # noqa: N802
    """150 examples; a slow test."""
    marked: Callable[..., None] = pytest.mark.slow(_QUICK_SETTINGS(test))
    return marked


# --- hand builders ------------------------------------------------------------


def addr(n: int) -> bytes:
    """A 20-byte address whose value is ``n`` (so addr(1) < addr(2))."""
    return n.to_bytes(20, "big")


def account(
    n: int,
    *,
    storage: dict[int, list[tuple[int, int]]] | None = None,
    reads: list[int] | None = None,
    balances: list[tuple[int, int]] | None = None,
    nonces: list[tuple[int, int]] | None = None,
    codes: list[tuple[int, bytes]] | None = None,
) -> AccountChanges:
    """An AccountChanges built from plain lists, in the order given (not sorted)."""
    return AccountChanges(
        address=addr(n),
        storage_changes=tuple(
            SlotChanges(slot, tuple(StorageChange(i, v) for i, v in changes))
            for slot, changes in (storage or {}).items()
        ),
        storage_reads=tuple(reads or ()),
        balance_changes=tuple(BalanceChange(i, v) for i, v in balances or ()),
        nonce_changes=tuple(NonceChange(i, v) for i, v in nonces or ()),
        code_changes=tuple(CodeChange(i, c) for i, c in codes or ()),
    )


def bal_of(*accounts: AccountChanges) -> BlockAccessList:
    return BlockAccessList(tuple(accounts))


# --- independent reference encoding -------------------------------------------

Nested = bytes | list["Nested"]


def int_bytes(n: int) -> bytes:
    """Canonical RLP integer payload: big-endian, no leading zero, zero is empty."""
    assert n >= 0
    return n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""


def nested_of(bal: BlockAccessList) -> list[Nested]:
    """The wire tree of ``bal`` as nested lists of byte strings, built by hand."""

    def pairs(items: Any, attr: str, conv: Any) -> list[Nested]:
        return [[int_bytes(c.block_access_index), conv(getattr(c, attr))] for c in items]

    return [
        [
            a.address,
            [[int_bytes(sc.slot), pairs(sc.changes, "post_value", int_bytes)] for sc in a.storage_changes],
            [int_bytes(r) for r in a.storage_reads],
            pairs(a.balance_changes, "post_balance", int_bytes),
            pairs(a.nonce_changes, "post_nonce", int_bytes),
            pairs(a.code_changes, "new_code", bytes),
        ]
        for a in bal.accounts
    ]


def _length_prefix(length: int, short_base: int) -> bytes:
    if length < 56:
        return bytes([short_base + length])
    size = int_bytes(length)
    return bytes([short_base + 55 + len(size)]) + size


def ref_rlp(item: Nested) -> bytes:
    """A minimal RLP encoder written from the Yellow Paper, independent of pyrlp."""
    if isinstance(item, (bytes, bytearray)):
        item = bytes(item)
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length_prefix(len(item), 0x80) + item
    payload = b"".join(ref_rlp(x) for x in item)
    return _length_prefix(len(payload), 0xC0) + payload


def nested_lists(depth: int) -> bytes:
    """RLP of ``depth`` lists, each holding the next: built inside out, in linear time."""
    prefixes = []
    payload_size = 0
    for _ in range(depth):
        prefix = _length_prefix(payload_size, 0xC0)
        prefixes.append(prefix)
        payload_size += len(prefix)
    return b"".join(reversed(prefixes))


# --- strategies ------------------------------------------------------------------


def uints(max_value: int) -> st.SearchStrategy[int]:
    """Unsigned integers up to ``max_value``, with the byte-boundary edges made likely."""
    candidates = (0, 1, 0x7F, 0x80, 0xFF, 0x100, max_value >> 8, (max_value >> 8) + 1, max_value)
    edges = sorted({v for v in candidates if v <= max_value})
    return st.one_of(st.sampled_from(edges), st.integers(0, 300), st.integers(0, max_value))


u256s = uints(U256_MAX)
u64s = uints(U64_MAX)
# Indices are mostly small (as in real blocks) so that tx_count bounds are meaningful.
indices = st.one_of(st.integers(0, 40), uints(U32_MAX))
addresses = st.binary(min_size=20, max_size=20)
codes = st.one_of(st.binary(max_size=48), st.sampled_from([b"", b"\x00", b"\xef\x01\x00" + b"\x11" * 20]))


@st.composite
def _indexed(draw: st.DrawFn, values: st.SearchStrategy[Any], cls: Any, min_size: int = 0) -> tuple:
    """Change entries with strictly ascending, unique indices."""
    idx = sorted(draw(st.lists(indices, min_size=min_size, max_size=4, unique=True)))
    return tuple(cls(i, draw(values)) for i in idx)


@st.composite
def valid_accounts(draw: st.DrawFn, address: bytes) -> AccountChanges:
    """An AccountChanges that satisfies every rule of validate_structure (no tx/gas bounds)."""
    keys = draw(st.lists(u256s, max_size=6, unique=True))
    writes = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    slots = sorted(k for k, w in zip(keys, writes, strict=True) if w)
    reads = sorted(k for k, w in zip(keys, writes, strict=True) if not w)
    return AccountChanges(
        address=address,
        storage_changes=tuple(
            SlotChanges(s, draw(_indexed(u256s, StorageChange, min_size=1))) for s in slots
        ),
        storage_reads=tuple(reads),
        balance_changes=draw(_indexed(u256s, BalanceChange)),
        nonce_changes=draw(_indexed(u64s, NonceChange)),
        code_changes=draw(_indexed(codes, CodeChange)),
    )


@st.composite
def valid_bals(draw: st.DrawFn, min_accounts: int = 0, max_accounts: int = 5) -> BlockAccessList:
    """BALs that pass validate_structure() with default arguments."""
    addrs = sorted(draw(st.lists(addresses, min_size=min_accounts, max_size=max_accounts, unique=True)))
    return BlockAccessList(tuple(draw(valid_accounts(a)) for a in addrs))


def _any_indexed(values: st.SearchStrategy[Any], cls: Any) -> st.SearchStrategy[tuple]:
    return st.lists(st.builds(cls, uints(U32_MAX), values), max_size=3).map(tuple)


raw_accounts = st.builds(
    AccountChanges,
    address=addresses,
    storage_changes=st.lists(
        st.builds(SlotChanges, u256s, _any_indexed(u256s, StorageChange)), max_size=3
    ).map(tuple),
    storage_reads=st.lists(u256s, max_size=3).map(tuple),
    balance_changes=_any_indexed(u256s, BalanceChange),
    nonce_changes=_any_indexed(u64s, NonceChange),
    code_changes=_any_indexed(codes, CodeChange),
)

# Well-formed (encodable) but not necessarily valid BALs: any order, duplicates,
# empty slot-change lists. The codecs must round-trip these too.
raw_bals = st.lists(raw_accounts, max_size=4).map(lambda xs: BlockAccessList(tuple(xs)))

any_bals = st.one_of(valid_bals(), raw_bals)


# --- wire-tree mutation (for decoder fuzzing) --------------------------------------

rlp_leaves = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [b"", b"\x00", b"\x00\x01", b"\x01" * 5, b"\x01" * 9, b"\x01" * 33, b"\x11" * 19, b"\x11" * 21]
    ),
)
rlp_trees = st.recursive(rlp_leaves, lambda inner: st.lists(inner, max_size=4), max_leaves=8)


def _paths(tree: Nested, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = [prefix]
    if isinstance(tree, list):
        for i, child in enumerate(tree):
            out.extend(_paths(child, prefix + (i,)))
    return out


def _replace(tree: Nested, path: tuple[int, ...], new: Any) -> Any:
    if not path:
        return new
    assert isinstance(tree, list)
    copy = list(tree)
    copy[path[0]] = _replace(tree[path[0]], path[1:], new)
    return copy


@st.composite
def mutated_trees(draw: st.DrawFn) -> Nested:
    """The wire tree of a valid BAL with one node replaced, dropped, or duplicated."""
    tree: Nested = nested_of(draw(valid_bals(min_accounts=1, max_accounts=3)))
    path = draw(st.sampled_from(_paths(tree)))
    op = draw(st.sampled_from(["replace", "drop", "append"]))
    if op == "replace" or not path:
        return _replace(tree, path, draw(rlp_trees))
    parent_path, i = path[:-1], path[-1]
    parent = tree
    for p in parent_path:
        parent = parent[p]  # type: ignore[index]
    assert isinstance(parent, list)
    if op == "drop":
        new_parent = parent[:i] + parent[i + 1 :]
    else:
        new_parent = parent + [draw(rlp_trees)]
    return _replace(tree, parent_path, new_parent)


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1..4 random byte flips, insertions, deletions or overwrites."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "set"]))
        if op == "insert" or not out:
            out.insert(draw(st.integers(0, len(out))), draw(st.integers(0, 255)))
            continue
        pos = draw(st.integers(0, len(out) - 1))
        if op == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete":
            del out[pos]
        else:
            out[pos] = draw(st.integers(0, 255))
    return bytes(out)


# --- JSON values -------------------------------------------------------------------

hexish = st.one_of(
    st.from_regex(r"0x[0-9a-fA-F]{0,70}", fullmatch=True),
    st.sampled_from(
        ["0x", "0x0", "0x00", "0x" + "11" * 20, "0x" + "ff" * 33, "0x" + "ff" * 5, "0x" + "ff" * 9]
    ),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10), hexish
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=16), inner, max_size=4)
    ),
    max_leaves=12,
)
