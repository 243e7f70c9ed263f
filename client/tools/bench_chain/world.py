"""The bench chain's population and the generator's mirror of its state.

The genesis is drawn from the seed: funded EOAs (keys ``keccak(tag ++ seed ++
index)``), six tokens held by a Zipf-like share of them (the hottest token by
most), a pair over the two hottest tokens with allowances from its traders,
and a key-value store with some slots already set. The generator never asks
the chain what the state is: it mirrors every balance, allowance, reserve and
nonce it relies on, so choosing valid transactions costs no execution, and the
same seed always makes the same choices. ETH balances are mirrored
conservatively (a transaction is charged its full ``gas * max_fee``).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from eth_hash.auto import keccak
from eth_keys.datatypes import PrivateKey

ETHER = 10**18
TOKEN_COUNT = 6
# The share of accounts holding each token, hottest first.
HOLDER_SHARES = (0.6, 0.4, 0.25, 0.15, 0.1, 0.1)
TRADER_SHARE = 0.1  # accounts allowed to trade on the pair (allowances in genesis)
STORED_SHARE = 0.1  # key-value slots set in genesis, per account
BUSY_SENDERS = 32  # bots and exchanges: rich accounts that send many transactions
HOT_RECIPIENTS = 64  # exchange deposit addresses and the like: receive many transfers
MIN_ACCOUNTS = BUSY_SENDERS + HOT_RECIPIENTS
# Genesis (its state root, computed once per import-bench invocation) takes ~6 s at this size.
DEFAULT_ACCOUNTS = 10_000
UNLIMITED = 2**256 - 1


def _derived(tag: str, seed: int, index: int = 0) -> bytes:
    return keccak(f"balrex bench-chain {tag}".encode() + seed.to_bytes(32, "big") + index.to_bytes(8, "big"))


def contract_address(tag: str, seed: int, index: int = 0) -> bytes:
    """A predeployed contract's address: no key exists for it."""
    return _derived(tag, seed, index)[12:]


@dataclass(frozen=True)
class Approval:
    """An allowance granted in the chain, waiting for its spender's transferFrom."""

    token: int
    owner: int
    spender: int
    amount: int


@dataclass
class World:
    """Accounts are indices into ``keys``/``addresses``; tokens are indices into ``tokens``."""

    seed: int
    keys: list[PrivateKey]
    addresses: list[bytes]
    eth: list[int]
    nonces: list[int]
    tokens: list[bytes]
    # token -> holder -> balance, and each token's holders in the order they got one.
    balances: list[dict[int, int]]
    holders: list[list[int]]
    pair: bytes
    # Reserves of tokens 0 and 1; they are also the pair's token balances.
    reserves: list[int]
    traders: list[int]
    store: bytes
    # (account, key) pairs whose value in the key-value store is not zero.
    stored: list[tuple[int, int]]
    approvals: deque[Approval] = field(default_factory=deque)
    fresh_accounts: int = 0

    @classmethod
    def create(cls, seed: int, accounts: int) -> World:
        rng = random.Random(_derived("genesis", seed))
        keys = [PrivateKey(_derived("account", seed, i)) for i in range(accounts)]
        eth = [rng.randint(10, 1000) * ETHER for _ in range(accounts)]
        for busy in range(BUSY_SENDERS):
            eth[busy] = 10**6 * ETHER
        balances: list[dict[int, int]] = []
        holders: list[list[int]] = []
        for share in HOLDER_SHARES:
            chosen = rng.sample(range(accounts), max(1, int(share * accounts)))
            balances.append({holder: rng.randint(ETHER, 10**5 * ETHER) for holder in chosen})
            holders.append(chosen)
        traders = rng.sample(range(accounts), max(1, int(TRADER_SHARE * accounts)))
        for trader in traders:  # every trader holds both of the pair's tokens
            for token in (0, 1):
                if trader not in balances[token]:
                    balances[token][trader] = rng.randint(ETHER, 10**5 * ETHER)
                    holders[token].append(trader)
        stored = [
            (rng.randrange(accounts), rng.randrange(2**16)) for _ in range(int(STORED_SHARE * accounts))
        ]
        return cls(
            seed=seed,
            keys=keys,
            addresses=[key.public_key.to_canonical_address() for key in keys],
            eth=eth,
            nonces=[0] * accounts,
            tokens=[contract_address("token", seed, i) for i in range(TOKEN_COUNT)],
            balances=balances,
            holders=holders,
            pair=contract_address("pair", seed),
            reserves=[10**7 * ETHER, 2 * 10**7 * ETHER],
            traders=traders,
            store=contract_address("store", seed),
            stored=list(dict.fromkeys(stored)),
        )

    def fresh_address(self) -> bytes:
        """A never-used address (a transfer to it creates an account)."""
        self.fresh_accounts += 1
        return _derived("fresh", self.seed, self.fresh_accounts)[12:]

    def move_tokens(self, token: int, source: int, target: int, amount: int) -> None:
        self.balances[token][source] -= amount
        if target not in self.balances[token]:
            self.balances[token][target] = 0
            self.holders[token].append(target)
        self.balances[token][target] += amount
