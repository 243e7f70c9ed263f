"""The transaction mix: what a block's transactions do, drawn like mainnet's.

Each transaction is first an :class:`Intent` (kind, sender, target, value,
calldata, gas) chosen against the :class:`World` mirror, which it updates as
the chain will; then it is signed with the sender's next nonce. A kind that
cannot be drawn at that moment (no pending allowance, no trader with funds)
becomes a plain ETH transfer, which always can, and is counted as one.

Gas limits are generous fixed allowances per kind, plus EIP-8037 state gas
for what a transaction may create on Amsterdam (``cpsb`` is 0 before it),
so no transaction runs out of gas; reverts come only from a mirror mistake.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth.abc import SignedTransactionAPI

from . import contracts
from .world import BUSY_SENDERS, ETHER, HOT_RECIPIENTS, TOKEN_COUNT, Approval, World

ETH_TRANSFER = "eth_transfer"
ERC20_TRANSFER = "erc20_transfer"
ERC20_APPROVE = "erc20_approve"
ERC20_TRANSFER_FROM = "erc20_transfer_from"
AMM_SWAP = "amm_swap"
CREATE = "create"
STORAGE_SET = "storage_set"
STORAGE_CLEAR = "storage_clear"

# Roughly mainnet's mix: a third plain transfers, a third token calls, then DEX swaps.
KIND_WEIGHTS: dict[str, int] = {
    ETH_TRANSFER: 35,
    ERC20_TRANSFER: 25,
    ERC20_APPROVE: 6,
    ERC20_TRANSFER_FROM: 4,
    AMM_SWAP: 15,
    CREATE: 5,
    STORAGE_SET: 5,
    STORAGE_CLEAR: 5,
}
KINDS = tuple(KIND_WEIGHTS)

# Zipf-like popularity: token i is drawn with weight 1/(i+1).
TOKEN_WEIGHTS = tuple(1 / (rank + 1) for rank in range(TOKEN_COUNT))
BUSY_SENDER_SHARE = 0.1
HOT_RECIPIENT_SHARE = 0.25
FRESH_RECIPIENT_SHARE = 0.15
EMPTYING_SHARE = 0.1  # token transfers that send the whole balance (the slot is cleared)
LEGACY_SHARE = 0.05  # ETH transfers sent as legacy (EIP-155) transactions
TOKEN_CREATION_SHARE = 0.6  # creations deploying a token; the others deploy a key-value store
TIPS = (10**8, 5 * 10**8, 10**9, 2 * 10**9)
PICK_ATTEMPTS = 8

# Regular gas allowed per kind; state-creating kinds add their bytes times cpsb.
TRANSFER_GAS = 21_000
TOKEN_CALL_GAS = 120_000
SWAP_GAS = 250_000
CREATE_GAS = 1_500_000
STORE_GAS = 80_000
STATE_BYTES_ACCOUNT = 112
STATE_BYTES_SLOT = 32


@dataclass(frozen=True)
class Intent:
    kind: str
    sender: int
    to: bytes  # b"" creates a contract
    value: int
    data: bytes
    gas: int


class Mix:
    """Draws and signs the transactions of successive blocks over one world."""

    def __init__(self, world: World, rng: random.Random, chain_id: int, cpsb: int, tx_builder: Any) -> None:
        self.world = world
        self.rng = rng
        self.chain_id = chain_id
        self.cpsb = cpsb
        self.tx_builder = tx_builder
        self._max_fee = 0
        self._draw: dict[str, Callable[[], Intent | None]] = {
            ETH_TRANSFER: self._eth_transfer,
            ERC20_TRANSFER: self._token_transfer,
            ERC20_APPROVE: self._approve,
            ERC20_TRANSFER_FROM: self._transfer_from,
            AMM_SWAP: self._swap,
            CREATE: self._create,
            STORAGE_SET: self._storage_set,
            STORAGE_CLEAR: self._storage_clear,
        }

    def block(self, count: int, base_fee: int) -> list[tuple[str, SignedTransactionAPI]]:
        """``count`` signed transactions for a block with this base fee, with their kinds."""
        self._max_fee = 2 * base_fee + max(TIPS)
        kinds = self.rng.choices(KINDS, weights=tuple(KIND_WEIGHTS.values()), k=count)
        signed = []
        for kind in kinds:
            intent = self._draw[kind]() or self._eth_transfer()  # a transfer can always be drawn
            signed.append((intent.kind, self._sign(intent)))
        return signed

    # -- accounts ------------------------------------------------------------

    def _affords(self, sender: int, gas: int, value: int) -> bool:
        return self.world.eth[sender] >= gas * self._max_fee + value

    def _sender(self, gas: int, value: int = 0) -> int:
        """A sender able to pay: sometimes a busy bot, mostly anyone (so most txs are independent)."""
        world = self.world
        while True:
            if self.rng.random() < BUSY_SENDER_SHARE:
                sender = self.rng.randrange(BUSY_SENDERS)
            else:
                sender = self.rng.randrange(len(world.keys))
            if self._affords(sender, gas, value):
                return sender

    def _recipient(self) -> int:
        if self.rng.random() < HOT_RECIPIENT_SHARE:
            return self.rng.randrange(HOT_RECIPIENTS)
        return self.rng.randrange(len(self.world.keys))

    def _token(self) -> int:
        return self.rng.choices(range(TOKEN_COUNT), weights=TOKEN_WEIGHTS)[0]

    def _holder(self, token: int, gas: int) -> int | None:
        """A holder of ``token`` with a balance who can pay for ``gas``."""
        holders, balances = self.world.holders[token], self.world.balances[token]
        for _ in range(PICK_ATTEMPTS):
            holder = holders[self.rng.randrange(len(holders))]
            if balances[holder] > 0 and self._affords(holder, gas, 0):
                return holder
        return None

    def _state_gas(self, accounts: int = 0, slots: int = 0) -> int:
        return (STATE_BYTES_ACCOUNT * accounts + STATE_BYTES_SLOT * slots) * self.cpsb

    def _sign(self, intent: Intent) -> SignedTransactionAPI:
        world = self.world
        nonce = world.nonces[intent.sender]
        world.nonces[intent.sender] += 1
        world.eth[intent.sender] -= intent.gas * self._max_fee + intent.value
        key = world.keys[intent.sender]
        tip = self.rng.choice(TIPS)
        if intent.kind == ETH_TRANSFER and self.rng.random() < LEGACY_SHARE:
            unsigned = self.tx_builder.create_unsigned_transaction(
                nonce=nonce,
                gas_price=self._max_fee - max(TIPS) + tip,
                gas=intent.gas,
                to=intent.to,
                value=intent.value,
                data=intent.data,
            )
            signed = unsigned.as_signed_transaction(key, chain_id=self.chain_id)
        else:
            unsigned = self.tx_builder.new_unsigned_dynamic_fee_transaction(
                chain_id=self.chain_id,
                nonce=nonce,
                max_priority_fee_per_gas=tip,
                max_fee_per_gas=self._max_fee,
                gas=intent.gas,
                to=intent.to,
                value=intent.value,
                data=intent.data,
                access_list=(),
            )
            signed = unsigned.as_signed_transaction(key)
        # py-evm signs typed transactions as London's class, which a later fork's block
        # cannot serialize: decoding the bytes gives the fork's own class.
        return self.tx_builder.decode(signed.encode())

    # -- kinds -----------------------------------------------------------------

    def _eth_transfer(self) -> Intent:
        world = self.world
        value = self.rng.randint(1, 500) * ETHER // 1000
        if self.rng.random() < FRESH_RECIPIENT_SHARE:
            to, gas = world.fresh_address(), TRANSFER_GAS + self._state_gas(accounts=1)
        else:
            recipient = self._recipient()
            to, gas = world.addresses[recipient], TRANSFER_GAS
            world.eth[recipient] += value
        return Intent(ETH_TRANSFER, self._sender(gas, value), to, value, b"", gas)

    def _token_gas(self) -> int:
        return TOKEN_CALL_GAS + self._state_gas(slots=1)

    def _token_transfer(self) -> Intent | None:
        token, gas = self._token(), self._token_gas()
        sender = self._holder(token, gas)
        if sender is None:
            return None
        balance = self.world.balances[token][sender]
        amount = (
            balance
            if self.rng.random() < EMPTYING_SHARE
            else max(1, balance * self.rng.randint(1, 30) // 100)
        )
        recipient = self._recipient()
        self.world.move_tokens(token, sender, recipient, amount)
        data = contracts.call_data(contracts.TRANSFER, self.world.addresses[recipient], amount)
        return Intent(ERC20_TRANSFER, sender, self.world.tokens[token], 0, data, gas)

    def _approve(self) -> Intent | None:
        token, gas = self._token(), self._token_gas()
        owner = self._holder(token, gas)
        if owner is None:
            return None
        spender = self._sender(gas)
        amount = max(1, self.world.balances[token][owner] * self.rng.randint(1, 50) // 100)
        self.world.approvals.append(Approval(token, owner, spender, amount))
        data = contracts.call_data(contracts.APPROVE, self.world.addresses[spender], amount)
        return Intent(ERC20_APPROVE, owner, self.world.tokens[token], 0, data, gas)

    def _transfer_from(self) -> Intent | None:
        """Spend the oldest pending allowance, in full (its slot is cleared) when the owner can cover it."""
        world, gas = self.world, self._token_gas()
        while world.approvals:
            approval = world.approvals.popleft()
            amount = min(approval.amount, world.balances[approval.token][approval.owner])
            if amount == 0 or not self._affords(approval.spender, gas, 0):
                continue
            if amount < approval.amount:  # the rest stays approved
                world.approvals.append(
                    Approval(approval.token, approval.owner, approval.spender, approval.amount - amount)
                )
            recipient = self._recipient()
            world.move_tokens(approval.token, approval.owner, recipient, amount)
            data = contracts.call_data(
                contracts.TRANSFER_FROM, world.addresses[approval.owner], world.addresses[recipient], amount
            )
            return Intent(ERC20_TRANSFER_FROM, approval.spender, world.tokens[approval.token], 0, data, gas)
        return None

    def _swap(self) -> Intent | None:
        world, gas = self.world, SWAP_GAS + self._state_gas(slots=1)
        for _ in range(PICK_ATTEMPTS):
            trader = world.traders[self.rng.randrange(len(world.traders))]
            token_in = self.rng.randrange(2)
            token_out = 1 - token_in
            balance = world.balances[token_in][trader]
            # Trades are small against the pool (at most 0.5% of its reserve), like most swaps.
            amount_in = min(balance * self.rng.randint(1, 20) // 100, world.reserves[token_in] // 200)
            if amount_in == 0 or not self._affords(trader, gas, 0):
                continue
            amount_out = contracts.swap_output(amount_in, world.reserves[token_in], world.reserves[token_out])
            if amount_out == 0:
                continue
            world.balances[token_in][trader] -= amount_in
            world.reserves[token_in] += amount_in
            world.reserves[token_out] -= amount_out
            world.balances[token_out][trader] += amount_out
            data = contracts.call_data(contracts.SWAP, amount_in, token_in)
            return Intent(AMM_SWAP, trader, world.pair, 0, data, gas)
        return None

    def _create(self) -> Intent:
        """Deploy a new token (minted to its creator) or, less often, a key-value store."""
        if self.rng.random() < TOKEN_CREATION_SHARE:
            initcode = contracts.token_initcode(self.rng.randint(1, 10**9) * ETHER)
            slots = 1
        else:
            initcode, slots = contracts.STORE_INITCODE, 0
        gas = CREATE_GAS + self._state_gas(accounts=1, slots=slots) + len(initcode) * self.cpsb
        return Intent(CREATE, self._sender(gas), b"", 0, initcode, gas)

    def _storage_set(self) -> Intent:
        gas = STORE_GAS + self._state_gas(slots=1)
        account, key = self._sender(gas), self.rng.randrange(2**16)
        if (account, key) not in self.world.stored:
            self.world.stored.append((account, key))
        value = self.rng.randrange(1, 2**64)
        return Intent(STORAGE_SET, account, self.world.store, 0, contracts.store_call(key, value), gas)

    def _storage_clear(self) -> Intent | None:
        """Zero a set slot (a refund), if its writer can pay."""
        world = self.world
        for _ in range(PICK_ATTEMPTS):
            if not world.stored:
                return None
            position = self.rng.randrange(len(world.stored))
            account, key = world.stored[position]
            if self._affords(account, STORE_GAS, 0):
                world.stored[position] = world.stored[-1]
                world.stored.pop()
                return Intent(STORAGE_CLEAR, account, world.store, 0, contracts.store_call(key, 0), STORE_GAS)
        return None
