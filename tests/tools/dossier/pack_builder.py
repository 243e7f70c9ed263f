"""Building ``trace-pack-v1`` packs for the dossier tests and the benchmark script.

Hand-built packs use :func:`access`, :func:`transaction` and :func:`write_pack`;
:func:`synthetic_block` makes a large, seeded block with a few hot keys, the shape
that makes conflict analysis expensive.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

SLOT_KINDS = ("read", "write", "read_write")


def address(number: int) -> str:
    return "0x" + f"{number:040x}"


def slot(number: int) -> str:
    return "0x" + f"{number:064x}"


def access(
    contract: int,
    slot_number: int | None = None,
    kind: str = "read",
    op: str | None = None,
    pc: int | None = None,
) -> dict[str, Any]:
    """One observation; ``slot_number=None`` makes an account-level access."""
    return {
        "address": address(contract),
        "slot": None if slot_number is None else slot(slot_number),
        "kind": kind,
        "op": op,
        "pc": pc,
        "depth": 1,
        "gas_remaining": None,
    }


def transaction(index: int, accesses: list[dict[str, Any]], gas: int | None = 21_000) -> dict[str, Any]:
    return {
        "tx_index": index,
        "tx_hash": "0x" + f"{index:064x}",
        "from": address(0xAAAA),
        "to": None,
        "gas_used": gas,
        "status": "0x1",
        "accesses": accesses,
        "warnings": [],
    }


def write_pack(
    root: Path, blocks: dict[int, list[dict[str, Any]]], gzip_blocks: bool = False, chain: str = "test"
) -> Path:
    """A pack folder at ``root`` holding ``blocks`` (number -> transactions), optionally gzipped."""
    numbers = sorted(blocks)
    (root / "blocks").mkdir(parents=True, exist_ok=True)
    manifest = {
        "schema_version": "trace-pack-v1",
        "chain": chain,
        "source": "tests",
        "provenance": "hand-built test pack",
        "start_block": numbers[0],
        "end_block": numbers[-1],
        "tracer_kind": "test",
        "warnings": [],
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    for number in numbers:
        transactions = blocks[number]
        gas = [tx["gas_used"] for tx in transactions]
        content = {
            "chain": chain,
            "block_number": number,
            "tx_count": len(transactions),
            "total_gas_used": None if None in gas else sum(gas),
            "transactions": transactions,
            "warnings": [],
        }
        data = json.dumps(content).encode()
        if gzip_blocks:
            (root / "blocks" / f"{number}.json.gz").write_bytes(gzip.compress(data))
        else:
            (root / "blocks" / f"{number}.json").write_bytes(data)
    return root


def synthetic_block(
    tx_count: int, access_count: int, seed: int = 1, hot_share: float = 0.2
) -> list[dict[str, Any]]:
    """``tx_count`` transactions, ``access_count`` accesses in all, ``hot_share`` of them on ten hot slots."""
    rng = random.Random(seed)
    per_tx, extra = divmod(access_count, tx_count)
    transactions = []
    for index in range(tx_count):
        accesses = [access(1000 + index, None, "account_touch", "BALANCE")]
        for number in range(per_tx - 1 + (index < extra)):
            if rng.random() < hot_share:
                contract, slot_number = 1, rng.randrange(10)
            else:
                contract, slot_number = rng.randrange(2, 400), rng.randrange(5_000)
            kind = rng.choices(SLOT_KINDS, weights=(6, 3, 1))[0]
            accesses.append(
                access(contract, slot_number, kind, "SLOAD" if kind == "read" else "SSTORE", number)
            )
        transactions.append(transaction(index, accesses, gas=rng.randrange(21_000, 400_000)))
    return transactions
