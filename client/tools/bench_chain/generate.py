"""``generate_chain``: the world, its genesis, N blocks of the mix, the files.

All randomness comes from ``random.Random`` seeded with the seed, and keys
and addresses from keccak of the seed, so one seed always gives the same
bytes: nothing reads the clock, iterates a set, or asks the OS for entropy.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth.vm.forks.byzantium.constants import EIP658_TRANSACTION_STATUS_CODE_SUCCESS
from eth_utils import ValidationError

from client.forks.amsterdam.state_gas import cost_per_state_byte
from pipeline.verdicts import BlockRejected

from .bench_genesis import FORKS, bench_genesis
from .builder import SECONDS_PER_SLOT, ChainBuilder
from .chain_files import BenchChainError, prepare_out_dir, write_chain
from .mix import KINDS, Mix
from .world import DEFAULT_ACCOUNTS, MIN_ACCOUNTS, World


@dataclass(frozen=True)
class ChainSettings:
    fork: str
    blocks: int
    txs_per_block: int
    seed: int
    accounts: int = DEFAULT_ACCOUNTS
    # The first Amsterdam block of a chain that starts in BPO2 (None: Amsterdam from genesis).
    amsterdam_at: int | None = None

    def check(self) -> None:
        """Raise BenchChainError for settings that cannot make a chain."""
        if self.fork not in FORKS:
            raise BenchChainError(f"unknown fork {self.fork!r} (choose from {', '.join(FORKS)})")
        if self.blocks < 1:
            raise BenchChainError(f"--blocks must be at least 1, got {self.blocks}")
        if self.txs_per_block < 1:
            raise BenchChainError(f"--txs-per-block must be at least 1, got {self.txs_per_block}")
        if self.seed < 0:
            raise BenchChainError(f"--seed must not be negative, got {self.seed}")
        if self.accounts < MIN_ACCOUNTS:
            raise BenchChainError(f"--accounts must be at least {MIN_ACCOUNTS}, got {self.accounts}")
        if self.amsterdam_at is not None:
            if self.fork != "amsterdam":
                raise BenchChainError("--amsterdam-at needs --fork amsterdam")
            if not 1 <= self.amsterdam_at <= self.blocks:
                raise BenchChainError(
                    f"--amsterdam-at must name one of the blocks 1..{self.blocks}, got {self.amsterdam_at}"
                )


def generate_chain(settings: ChainSettings, out: Path) -> dict[str, Any]:
    """Generate the chain into ``out`` (see :func:`prepare_out_dir`); return its metadata."""
    settings.check()
    prepare_out_dir(out)
    world = World.create(settings.seed, settings.accounts)
    amsterdam_time = None if settings.amsterdam_at is None else settings.amsterdam_at * SECONDS_PER_SLOT
    genesis = bench_genesis(world, settings.fork, amsterdam_time)
    builder = ChainBuilder(genesis, randomness=settings.seed.to_bytes(32, "big"))
    cpsb = cost_per_state_byte(builder.head.gas_limit) if settings.fork == "amsterdam" else 0
    mix = Mix(world, random.Random(settings.seed), builder.config.chain_id, cpsb, builder.tx_builder())
    kinds: Counter[str] = Counter({kind: 0 for kind in KINDS})
    failed: Counter[str] = Counter()
    blocks, bals, total_gas = [], [], 0
    for number in range(1, settings.blocks + 1):
        drawn = mix.block(settings.txs_per_block, builder.next_base_fee())
        try:
            built = builder.build([transaction for _, transaction in drawn])
        except (ValidationError, BlockRejected) as exc:  # the mix never makes invalid txs: the block is full
            raise BenchChainError(
                f"block {number} is invalid ({exc}); fewer --txs-per-block may fit the gas limit"
            ) from None
        blocks.append(built.rlp)
        if built.block_access_list is not None:
            bals.append(built.block_access_list)
        total_gas += built.header.gas_used
        for (kind, _), receipt in zip(drawn, built.receipts, strict=True):
            kinds[kind] += 1
            if receipt.state_root != EIP658_TRANSACTION_STATUS_CODE_SUCCESS:
                failed[kind] += 1
    metadata = {
        "fork": settings.fork,
        "seed": settings.seed,
        "blocks": settings.blocks,
        "txs_per_block": settings.txs_per_block,
        "accounts": settings.accounts,
        "gas_limit": builder.head.gas_limit,
        "total_gas": total_gas,
        "tx_kinds": dict(kinds),
        "failed_tx_kinds": {kind: failed[kind] for kind in KINDS if failed[kind]},
        "genesis_hash": "0x" + builder.genesis_hash.hex(),
        "last_block_hash": "0x" + builder.head.hash.hex(),
    }
    if settings.fork == "amsterdam":
        # bals.rlp holds the BALs of the blocks from this one on (the Amsterdam blocks).
        metadata["first_bal_block"] = 1 + len(blocks) - len(bals)
    return write_chain(out, genesis, blocks, bals if settings.fork == "amsterdam" else None, metadata)
