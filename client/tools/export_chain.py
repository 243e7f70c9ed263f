"""``balrex export``: a node's canonical chain written as a bench chain directory.

The files are the bench-chain format (``client.tools.bench_chain``):
``genesis.json``, ``blocks.rlp`` (blocks 1..head, each the whole block's
RLP), ``bals.rlp`` (the stored BAL of every Amsterdam block, with
``first_bal_block`` in ``chain.json`` when the chain starts before Amsterdam)
and ``chain.json``; so ``balrex import-bench`` replays a dev chain, or any
chain a node imported. The genesis given must be the one the data dir was
initialized with (its hash is checked against the stored block 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rlp

from bal import decode_bal
from storage import Chain, Store, join_block

from ..chaindb import decode_header
from ..genesis import DatadirGenesisError, build_genesis, check_stored_genesis
from .bench_chain.chain_files import BenchChainError, prepare_out_dir, write_chain


class ExportError(ValueError):
    """The data dir cannot be exported: no chain, another genesis, a block missing."""


def export_chain(store: Store, genesis: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write the canonical chain of ``store`` (genesis ``genesis``) to ``out``; return chain.json."""
    chain = Chain(store)
    built = build_genesis(genesis)
    try:
        check_stored_genesis(chain, built)
    except DatadirGenesisError as exc:
        raise ExportError(str(exc)) from None
    head_hash = chain.head_hash()
    assert head_hash is not None, "a chain with a genesis has a head"
    head = decode_header(_stored(chain.header_rlp(head_hash), "header", head_hash))
    blocks: list[bytes] = []
    bals = []
    first_bal_block = None
    total_gas = total_txs = 0
    for number in range(1, head.block_number + 1):
        block_hash = chain.canonical_hash(number)
        if block_hash is None:
            raise ExportError(f"no canonical block {number}")
        header_rlp = _stored(chain.header_rlp(block_hash), "header", block_hash)
        body_rlp = _stored(chain.body_rlp(block_hash), "body", block_hash)
        blocks.append(join_block(header_rlp, body_rlp))
        total_gas += decode_header(header_rlp).gas_used
        total_txs += len(rlp.decode(body_rlp)[0])
        bal_rlp = chain.bal_rlp(block_hash)
        if bal_rlp is not None:
            first_bal_block = number if first_bal_block is None else first_bal_block
            bals.append(decode_bal(bal_rlp))
        elif first_bal_block is not None:
            raise ExportError(f"block {number} has no stored BAL, block {first_bal_block} had one")
    metadata: dict[str, Any] = {
        "fork": str(built.config.fork_at(head.timestamp)),
        "blocks": len(blocks),
        "txs": total_txs,
        "gas_limit": head.gas_limit,
        "total_gas": total_gas,
        "genesis_hash": "0x" + built.block_hash.hex(),
        "last_block_hash": "0x" + head_hash.hex(),
        "exported_from": "balrex export",
    }
    if first_bal_block is not None:
        metadata["first_bal_block"] = first_bal_block
    try:
        prepare_out_dir(out)
    except BenchChainError as exc:
        raise ExportError(str(exc)) from None
    return write_chain(out, genesis, blocks, bals if first_bal_block is not None else None, metadata)


def _stored(value: bytes | None, what: str, block_hash: bytes) -> bytes:
    if value is None:
        raise ExportError(f"the {what} of block 0x{block_hash.hex()} is not stored")
    return value
