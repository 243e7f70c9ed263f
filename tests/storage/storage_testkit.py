"""Deterministic test blocks for storage/ tests, an independent model of what they store, and a dumper.

Block ``n`` (n >= 1) is a batch of StateWrites + Chain.stage_block + Chain.stage_head.
``expected_dump(k)`` computes, with plain dicts and its own encoding, the exact
contents every key space must hold after blocks 1..k; ``dump(store)`` reads a
store back through ``Store.iterate``. The crash test's subprocess imports this
module too, so the blocks it writes are the blocks the test expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak

from storage import AccountRecord, Chain, Space, StateWrites, Store, StoredBlock, WriteBatch

Dump = dict[Space, dict[bytes, bytes]]

COMMON = b"\xcc" * 20  # touched by every block
MAX_WORD = 2**256 - 1


def address(n: int) -> bytes:
    """The account block ``n`` creates (and block ``n + 2`` deletes)."""
    return keccak(b"account-%d" % n)[:20]


def block_hash(n: int) -> bytes:
    return keccak(b"block-%d" % n)


def code_of(n: int) -> bytes:
    return b"\x60\x01\x60\x00" + n.to_bytes(4, "big")


def node_of(n: int) -> tuple[bytes, bytes]:
    node = rlp.encode([b"node", n])
    return keccak(node), node


@dataclass(frozen=True)
class BlockSpec:
    """The inputs of block ``n``, as plain data."""

    number: int
    # address -> (nonce, balance, storage_root, code_hash) or None for a deleted account
    accounts: dict[bytes, tuple[int, int, bytes, bytes] | None]
    storage: dict[bytes, dict[int, int]]
    code: dict[bytes, bytes]
    nodes: dict[bytes, bytes]
    header_rlp: bytes
    body_rlp: bytes
    receipts_rlp: bytes | None
    bal_rlp: bytes


def spec(n: int) -> BlockSpec:
    assert n >= 1
    code = code_of(n)
    accounts: dict[bytes, tuple[int, int, bytes, bytes] | None] = {
        address(n): (n, 10**18 * n, keccak(b"root-%d" % n), keccak(code)),
        COMMON: (n, n, keccak(b"common-root-%d" % n), keccak(b"")),
    }
    storage: dict[bytes, dict[int, int]] = {
        # slot n is set, slot n - 1 (set by the previous block) is deleted; slot 0 is
        # deleted by block 1 although it never existed
        COMMON: {n: n * 0x10001, n - 1: 0},
        address(n): {1: n, MAX_WORD: MAX_WORD},
    }
    if n >= 3:
        accounts[address(n - 2)] = None
        storage[address(n - 2)] = {1: 0, MAX_WORD: 0}
    node_hash, node = node_of(n)
    parent = block_hash(n - 1) if n > 1 else b"\x00" * 32
    return BlockSpec(
        number=n,
        accounts=accounts,
        storage=storage,
        code={keccak(code): code},
        nodes={node_hash: node},
        header_rlp=rlp.encode([parent, n, b"header"]),
        body_rlp=rlp.encode([[n.to_bytes(2, "big")], []]),
        receipts_rlp=rlp.encode([[b"receipt", n]]) if n % 2 == 0 else None,  # odd blocks: none stored
        bal_rlp=rlp.encode([[address(n), [[n]]]]),
    )


def state_writes(n: int) -> StateWrites:
    s = spec(n)
    return StateWrites(
        state_root=keccak(b"state-%d" % n),
        nodes=s.nodes,
        accounts={a: None if r is None else AccountRecord(*r) for a, r in s.accounts.items()},
        storage=s.storage,
        code=s.code,
    )


def stored_block(n: int) -> StoredBlock:
    s = spec(n)
    return StoredBlock(block_hash(n), n, s.header_rlp, s.body_rlp, s.receipts_rlp, s.bal_rlp)


def stage_block(batch: WriteBatch, n: int) -> None:
    """Everything block ``n`` writes, through the code under test."""
    state_writes(n).stage(batch)
    Chain.stage_block(batch, stored_block(n))
    Chain.stage_head(batch, block_hash(n), n)


def commit_block(store: Store, n: int) -> None:
    batch = WriteBatch()
    stage_block(batch, n)
    store.commit(batch)


def commit_blocks(store: Store, k: int) -> None:
    for n in range(1, k + 1):
        commit_block(store, n)


# --- the independent model ------------------------------------------------------


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def empty_dump() -> Dump:
    return {space: {} for space in Space}


def expected_dump(k: int) -> Dump:
    """Exact store contents after blocks 1..k, computed without storage/'s staging code."""
    out = empty_dump()
    for n in range(1, k + 1):
        s = spec(n)
        out[Space.NODE].update(s.nodes)
        out[Space.CODE].update(s.code)
        for addr, record in s.accounts.items():
            if record is None:
                out[Space.ACCOUNT].pop(addr, None)
            else:
                out[Space.ACCOUNT][addr] = rlp.encode(list(record))
        for addr, slots in s.storage.items():
            for slot, value in slots.items():
                key = addr + slot.to_bytes(32, "big")
                if value:
                    out[Space.STORAGE][key] = _int_bytes(value)
                else:
                    out[Space.STORAGE].pop(key, None)
        h = block_hash(n)
        out[Space.HEADER][h] = s.header_rlp
        out[Space.BODY][h] = s.body_rlp
        if s.receipts_rlp is not None:
            out[Space.RECEIPTS][h] = s.receipts_rlp
        out[Space.BAL][h] = s.bal_rlp
        out[Space.CANONICAL][n.to_bytes(8, "big")] = h
        out[Space.META][b"head"] = h
    return out


def dump(store: Store) -> Dump:
    """Every key space read back through ``iterate``; also checks each comes out in key order."""
    out: Dump = {}
    for space in Space:
        items = list(store.iterate(space))
        keys = [key for key, _ in items]
        assert keys == sorted(keys), f"{space.name} not iterated in key order"
        assert len(set(keys)) == len(keys), f"{space.name} yielded a key twice"
        out[space] = dict(items)
    return out
