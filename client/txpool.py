"""The transaction pool: admission against the head state, per-sender nonce order, replacement, eviction.

In memory and bounded (a count and a byte size). A transaction enters if it
is valid on the head state for the next block's fork, with two allowances a
pool needs: its nonce may be above the account's (it waits for the ones
before it), and its fee cap may be below the next base fee (it waits for the
base fee to fall; :meth:`TxPool.pending` leaves it out until then).

The rules and their answers follow geth's (each a :class:`TxRejected`
subclass carrying geth's message). The checks are the fork's own where it has
them: intrinsic gas (with the EIP-7623/7976 floor and EIP-8037 state gas) is
``state.minimum_gas``, and everything else the fork checks before executing
(EIP-7825's gas cap in Osaka, EIP-3607, blob counts, initcode size, fee
order ...) runs through the fork's transaction executor's
``validate_transaction`` on a throw-away head state whose nonce for the
sender is the transaction's and whose base fee is zero (the two allowances).

For payload building: :meth:`TxPool.pending` gives the executable
transactions, best effective tip first, each sender's in nonce order
(:class:`PendingQueue`); :meth:`TxPool.remove` drops what a block took;
:meth:`TxPool.on_new_head` re-checks everything against a new head (nonce
below the account's, balance short of the max cost).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eth.abc import SignedTransactionAPI
from eth.exceptions import UnrecognizedTransactionType
from eth.vm.forks.cancun import get_total_blob_gas
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError
from rlp.exceptions import DeserializationError, RLPException

from .blob_sidecar import BLOB_TX_TYPE, BlobSidecar, MalformedSidecar, split_network_form
from .head_state import HeadView

DEFAULT_MAX_COUNT = 4096
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_PRICE_BUMP = 10  # percent, on both the fee cap and the tip cap (geth's --txpool.pricebump)
DEFAULT_MIN_TIP = 1  # wei (geth's --txpool.pricelimit)
MAX_TX_SIZE = 128 * 1024  # geth's txMaxSize; a blob tx's sidecar does not count


class UndecodableTransaction(ValueError):
    """The raw bytes are not a transaction of the next block's fork (JSON-RPC -32602)."""


class TxRejected(Exception):
    """A transaction the pool refuses; ``message`` is geth's text for the rule (JSON-RPC -32000)."""

    message = "transaction rejected"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{self.message}: {detail}" if detail else self.message)


class AlreadyKnown(TxRejected):
    message = "already known"


class InvalidChainId(TxRejected):
    message = "invalid chain id"


class Unprotected(TxRejected):
    message = "only replay-protected (EIP-155) transactions allowed over RPC"


class InvalidSender(TxRejected):
    message = "invalid sender"


class OversizedData(TxRejected):
    message = "oversized data"


class ExceedsBlockGasLimit(TxRejected):
    message = "exceeds block gas limit"


class IntrinsicGasTooLow(TxRejected):
    message = "intrinsic gas too low"


class NonceTooLow(TxRejected):
    message = "nonce too low"


class InsufficientFunds(TxRejected):
    message = "insufficient funds for gas * price + value"


class Underpriced(TxRejected):
    message = "transaction underpriced"


class ReplacementUnderpriced(TxRejected):
    message = "replacement transaction underpriced"


class PoolFull(TxRejected):
    message = "txpool is full"


class MissingSidecar(TxRejected):
    message = "blob transaction without blobs (send the network form with its sidecar)"


class InvalidTransaction(TxRejected):
    """A rule of the fork's own checks; the message is the fork's."""

    message = "invalid transaction"


@dataclass(frozen=True)
class PoolTransaction:
    """One pooled transaction: the transaction, its sidecar (blob txs), what the pool keys on."""

    transaction: SignedTransactionAPI
    sidecar: BlobSidecar | None
    sender: bytes
    hash: bytes
    size: int  # canonical encoding plus sidecar, the bytes the pool holds
    arrival: int  # admission order; ties in tip go to the earlier

    @property
    def nonce(self) -> int:
        return int(self.transaction.nonce)

    @property
    def fee_cap(self) -> int:
        return int(self.transaction.max_fee_per_gas)

    @property
    def tip_cap(self) -> int:
        return int(self.transaction.max_priority_fee_per_gas)

    def effective_tip(self, base_fee: int) -> int:
        """What the fee recipient gets per gas at ``base_fee`` (negative: cannot be included yet)."""
        return min(self.tip_cap, self.fee_cap - base_fee)

    def max_cost(self) -> int:
        tx = self.transaction
        cost = tx.gas * tx.max_fee_per_gas + tx.value
        if tx.type_id == BLOB_TX_TYPE:
            cost += get_total_blob_gas(tx) * tx.max_fee_per_blob_gas
        return int(cost)


@dataclass
class Incoming:
    """A raw transaction decoded for the next block's fork, before any check."""

    transaction: SignedTransactionAPI
    sidecar: BlobSidecar | None
    size: int


def decode_incoming(raw: bytes, view: HeadView) -> Incoming:
    """Decode ``raw`` (canonical, or a blob tx's network form) with the next block's fork's builder."""
    try:
        canonical, sidecar = split_network_form(raw)
        transaction = view.transaction_builder().decode(canonical)
    except MalformedSidecar as exc:
        raise UndecodableTransaction(str(exc)) from None
    except UnrecognizedTransactionType as exc:
        raise UndecodableTransaction(f"transaction type {exc.args[0]} is not one of {view.fork}") from None
    except (DeserializationError, RLPException, ValidationError, IndexError, TypeError) as exc:
        raise UndecodableTransaction(f"not a transaction: {exc}") from None
    size = len(canonical) + (sidecar.size if sidecar is not None else 0)
    return Incoming(transaction, sidecar, size)


@dataclass(frozen=True)
class PoolLimits:
    max_count: int = DEFAULT_MAX_COUNT
    max_bytes: int = DEFAULT_MAX_BYTES
    price_bump: int = DEFAULT_PRICE_BUMP
    min_tip: int = DEFAULT_MIN_TIP


@dataclass
class _Account:
    """A sender's pooled transactions by nonce, and its nonce and balance on the pool's head."""

    nonce: int
    balance: int
    transactions: dict[int, PoolTransaction] = field(default_factory=dict)

    def executable(self) -> Iterator[PoolTransaction]:
        """The transactions from the account's nonce on, without a gap."""
        for nonce in itertools.count(self.nonce):
            pooled = self.transactions.get(nonce)
            if pooled is None:
                return
            yield pooled


class TxPool:
    def __init__(self, chain_id: int, limits: PoolLimits | None = None) -> None:
        self.chain_id = chain_id
        self.limits = limits or PoolLimits()
        self.by_hash: dict[bytes, PoolTransaction] = {}
        self._accounts: dict[bytes, _Account] = {}
        self.size = 0  # bytes held
        self.head_hash: bytes | None = None  # the head the pool last checked against
        self._arrivals = itertools.count()
        # Counts insertions and drops: a payload build rebuilds only when it moved since its snapshot.
        self.changes = 0

    def __len__(self) -> int:
        return len(self.by_hash)

    def get(self, tx_hash: bytes) -> PoolTransaction | None:
        return self.by_hash.get(tx_hash)

    # -- admission ----------------------------------------------------------------

    def add(self, incoming: Incoming, view: HeadView) -> PoolTransaction:
        """Admit ``incoming`` (its sidecar already verified) or raise the :class:`TxRejected` of the rule."""
        tx = incoming.transaction
        if tx.hash in self.by_hash:
            raise AlreadyKnown()
        if incoming.size - (incoming.sidecar.size if incoming.sidecar else 0) > MAX_TX_SIZE:
            raise OversizedData(f"{incoming.size} bytes, limit {MAX_TX_SIZE}")
        self._check_chain_id(tx)
        try:
            tx.check_signature_validity()
            sender = bytes(tx.sender)
        except (BadSignature, ValidationError) as exc:
            raise InvalidSender(str(exc)) from None
        if tx.type_id == BLOB_TX_TYPE and incoming.sidecar is None:
            raise MissingSidecar()
        gas_limit = view.next_header.gas_limit
        if tx.gas > gas_limit:
            raise ExceedsBlockGasLimit(f"gas {tx.gas}, block gas limit {gas_limit}")
        state = view.state(header=view.next_header.copy(base_fee_per_gas=0))
        required = state.minimum_gas(tx)
        if tx.gas < required:
            raise IntrinsicGasTooLow(f"gas {tx.gas}, minimum needed {required}")
        account = self._account(sender, state)
        if tx.nonce < account.nonce:
            raise NonceTooLow(f"address 0x{sender.hex()}, tx: {tx.nonce} state: {account.nonce}")
        pooled = PoolTransaction(
            tx, incoming.sidecar, sender, bytes(tx.hash), incoming.size, next(self._arrivals)
        )
        if account.balance < pooled.max_cost():
            raise InsufficientFunds(f"balance {account.balance}, tx cost {pooled.max_cost()}")
        if pooled.tip_cap < self.limits.min_tip:
            raise Underpriced(f"tip {pooled.tip_cap} below the pool's minimum {self.limits.min_tip}")
        state.set_nonce(sender, tx.nonce)
        try:
            state.get_transaction_executor().validate_transaction(tx)
        except ValidationError as exc:
            raise InvalidTransaction(str(exc)) from None
        replaced = account.transactions.get(tx.nonce)
        if replaced is not None:
            self._check_replacement(replaced, pooled)
        self._make_room(pooled, replaced, view.base_fee)
        if replaced is not None:
            self._drop(replaced)
        self._insert(pooled, account)
        return pooled

    def _check_chain_id(self, tx: SignedTransactionAPI) -> None:
        chain_id = tx.chain_id
        if chain_id is None:
            raise Unprotected()
        if chain_id != self.chain_id:
            raise InvalidChainId(f"have {chain_id}, want {self.chain_id}")

    def _account(self, sender: bytes, state: Any) -> _Account:
        """The sender's record, its nonce and balance read fresh from the head state."""
        account = self._accounts.get(sender)
        nonce, balance = int(state.get_nonce(sender)), int(state.get_balance(sender))
        if account is None:
            return _Account(nonce, balance)
        account.nonce, account.balance = nonce, balance
        return account

    def _check_replacement(self, old: PoolTransaction, new: PoolTransaction) -> None:
        bump = 100 + self.limits.price_bump
        if new.fee_cap * 100 < old.fee_cap * bump or new.tip_cap * 100 < old.tip_cap * bump:
            raise ReplacementUnderpriced(
                f"need fee cap >= {-(-old.fee_cap * bump // 100)}, tip cap >= {-(-old.tip_cap * bump // 100)}"
            )

    def _make_room(self, new: PoolTransaction, replaced: PoolTransaction | None, base_fee: int) -> None:
        """Evict the lowest-tip transactions until ``new`` fits; only senders' last nonces go.

        Evicting a sender's last transaction keeps every sender's nonces
        without a gap. The new transaction's own sender is not a candidate
        (its earlier nonces are what make the new one executable).
        """
        freed = replaced.size if replaced is not None else 0
        count = len(self.by_hash) + (0 if replaced is not None else 1)
        size = self.size - freed + new.size

        def over() -> bool:
            return count > self.limits.max_count or size > self.limits.max_bytes

        victims: list[PoolTransaction] = []
        candidates = [
            (pooled.effective_tip(base_fee), pooled.arrival, pooled)
            for sender, account in self._accounts.items()
            if sender != new.sender
            for pooled in [account.transactions[max(account.transactions)]]
        ]
        heapq.heapify(candidates)
        while over():
            if not candidates:
                raise PoolFull(f"{len(self.by_hash)} transactions, {self.size} bytes")
            tip, _, victim = heapq.heappop(candidates)
            if tip >= new.effective_tip(base_fee):
                raise Underpriced(
                    f"effective tip {new.effective_tip(base_fee)} not above the pool's lowest {tip}"
                )
            victims.append(victim)
            count -= 1
            size -= victim.size
            # The sender's next-highest nonce is its tail once the victim goes.
            sender_txs = self._accounts[victim.sender].transactions
            lower = [nonce for nonce in sender_txs if nonce < victim.nonce]
            if lower:
                below = sender_txs[max(lower)]
                heapq.heappush(candidates, (below.effective_tip(base_fee), below.arrival, below))
        for victim in victims:
            self._drop(victim)

    def _insert(self, pooled: PoolTransaction, account: _Account) -> None:
        self._accounts[pooled.sender] = account
        account.transactions[pooled.nonce] = pooled
        self.by_hash[pooled.hash] = pooled
        self.size += pooled.size
        self.changes += 1

    def _drop(self, pooled: PoolTransaction) -> None:
        account = self._accounts[pooled.sender]
        del account.transactions[pooled.nonce]
        del self.by_hash[pooled.hash]
        self.size -= pooled.size
        self.changes += 1
        if not account.transactions:
            del self._accounts[pooled.sender]

    # -- reads ----------------------------------------------------------------------

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        """The nonce after the sender's executable pooled transactions (``getTransactionCount pending``)."""
        account = self._accounts.get(sender)
        if account is None:
            return account_nonce
        return account_nonce + sum(1 for _ in _Account(account_nonce, 0, account.transactions).executable())

    def pending(self, base_fee: int, blob_base_fee: int | None = None) -> PendingQueue:
        """The executable transactions at ``base_fee`` (and ``blob_base_fee`` for blob txs), best tip first.

        Per sender: from its nonce on the pool's head, in nonce order, up to
        the first that cannot pay the fees. The order is geth's: the senders'
        next transactions in a heap by effective tip, then arrival.
        """
        return PendingQueue(
            (list(self._payable(account, base_fee, blob_base_fee)) for account in self._accounts.values()),
            base_fee,
        )

    @staticmethod
    def _payable(account: _Account, base_fee: int, blob_base_fee: int | None) -> Iterator[PoolTransaction]:
        for pooled in account.executable():
            tx = pooled.transaction
            if pooled.fee_cap < base_fee:
                return
            if tx.type_id == BLOB_TX_TYPE and (
                blob_base_fee is None or tx.max_fee_per_blob_gas < blob_base_fee
            ):
                return
            yield pooled

    def transactions(self) -> Iterable[PoolTransaction]:
        return self.by_hash.values()

    # -- changes of the chain -----------------------------------------------------

    def remove(self, tx_hashes: Iterable[bytes]) -> None:
        """Drop these transactions (a block took them); unknown hashes are ignored."""
        for tx_hash in tx_hashes:
            pooled = self.by_hash.get(tx_hash)
            if pooled is not None:
                self._drop(pooled)

    def on_new_head(self, view: HeadView) -> list[PoolTransaction]:
        """Re-check every sender against ``view``'s head; drop and return what became invalid.

        Dropped: nonces below the account's (included, or replaced on chain)
        and transactions whose max cost the balance no longer covers.
        """
        state = view.state()
        dropped: list[PoolTransaction] = []
        for sender in list(self._accounts):
            account = self._account(sender, state)
            for pooled in list(account.transactions.values()):
                if pooled.nonce < account.nonce or pooled.max_cost() > account.balance:
                    dropped.append(pooled)
                    self._drop(pooled)
        self.head_hash = bytes(view.head.hash)
        return dropped


class PendingQueue:
    """Pending transactions for one block, best effective tip first, each sender's in nonce order.

    ``peek()`` the best; after trying it, ``shift()`` if it went into the
    block (the sender's next comes up) or ``pop()`` if it did not (the
    sender's later nonces cannot go in either).
    """

    def __init__(self, per_sender: Iterable[list[PoolTransaction]], base_fee: int) -> None:
        self.base_fee = base_fee
        self._heap: list[tuple[int, int, list[PoolTransaction]]] = []
        for queue in per_sender:
            if queue:
                self._push(queue)

    def _push(self, queue: list[PoolTransaction]) -> None:
        head = queue[0]
        heapq.heappush(self._heap, (-head.effective_tip(self.base_fee), head.arrival, queue))

    def peek(self) -> PoolTransaction | None:
        return self._heap[0][2][0] if self._heap else None

    def shift(self) -> None:
        _, _, queue = heapq.heappop(self._heap)
        if len(queue) > 1:
            self._push(queue[1:])

    def pop(self) -> None:
        heapq.heappop(self._heap)

    def __iter__(self) -> Iterator[PoolTransaction]:
        """Every pending transaction in order, as if each went into the block."""
        while (best := self.peek()) is not None:
            yield best
            self.shift()
