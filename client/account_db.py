"""py-evm's account database, backed by our flat state instead of a trie.

py-evm's own ``AccountDB`` reads every account through a state trie and
hashes tries to finish a block. Here the reads come from a
:class:`pipeline.state_source.StateSource` (flat state, cached) and the writes
collect in two layers, so no trie is touched while transactions run:

* the *transaction layer* holds what the running transaction changed, with an
  undo log so snapshots (record / discard / commit) can roll back sub-calls;
* the *block layer* holds what earlier transactions of the block changed;
  ``lock_changes`` (called by py-evm as each transaction starts) folds the
  transaction layer into it. ``get_storage(from_journal=False)`` reads the
  block layer, which is the "original value" EIP-2200/3529 gas rules need.

Below the two layers is the *base*: the parent state, or, for a later part of
a block (``forks.amsterdam.later_part``), the parent state with the BAL's
claimed changes laid over it (:meth:`StoreAccountDB.start_from`). Changes that
arrive whole from elsewhere (:meth:`StoreAccountDB.apply_deltas`: the claimed
state before stolen transactions, a later part's end state) belong to the
block layer. Both kinds can name an account by some of its fields only (a
BAL names a balance without the nonce); such an account is read, and the
fields laid over it, only when something uses it: most accounts a block's
first transactions change are never used by its later ones.

When the block is done, :meth:`StoreAccountDB.account_deltas` turns the block
layer into :class:`bal.deltas.AccountDelta` values for ``merkle/``: the
streaming merkleizer. State roots are never computed here.

EIP-7928 recording (``start_recording``, ``finish_index``, ``paused``, ...) is
the :class:`client.bal_recording.BalRecording` mixin's. What stays here are
its hooks, inline because they run on every access: each account access adds
to ``_touched`` and each current-value storage read to ``_reads`` (one ``is
not None`` test per call when not recording), ``set_storage`` notes the
written slot in ``_unit_slots``, and ``lock_changes`` lets the mixin capture
the unit's before-values ahead of each fold. Reads made by
:meth:`StoreAccountDB.account_deltas` itself are not recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, NamedTuple

from eth.abc import AccountDatabaseAPI
from eth.db.journal import get_next_checkpoint
from eth_hash.auto import keccak

from bal.deltas import AccountDelta
from pipeline.state_source import StateSource
from storage import EMPTY_CODE_HASH, EMPTY_ROOT

from .bal_recording import BalRecording, RecordingError


class _Account(NamedTuple):
    nonce: int
    balance: int
    code_hash: bytes


_EMPTY_ACCOUNT = _Account(0, 0, EMPTY_CODE_HASH)
_MISSING = object()


class _Claim(NamedTuple):
    """Some of an account's fields, to lay over the account below when it is first used."""

    balance: int | None
    nonce: int | None
    code_hash: bytes | None

    def is_whole(self) -> bool:
        """Whether the claim names every field (then the account below is not needed)."""
        return self.balance is not None and self.nonce is not None and self.code_hash is not None

    def over(self, below: _Account | None) -> _Account | None:
        """The account with this claim laid over ``below``; None if that leaves it empty (EIP-161)."""
        current = below or _EMPTY_ACCOUNT
        account = _Account(
            current.nonce if self.nonce is None else self.nonce,
            current.balance if self.balance is None else self.balance,
            current.code_hash if self.code_hash is None else self.code_hash,
        )
        return None if account == _EMPTY_ACCOUNT else account

    def then(self, later: _Claim) -> _Claim:
        """This claim followed by ``later``: the later one's fields win."""
        return _Claim(
            self.balance if later.balance is None else later.balance,
            self.nonce if later.nonce is None else later.nonce,
            self.code_hash if later.code_hash is None else later.code_hash,
        )


class _Layer:
    __slots__ = ("accounts", "storage", "wiped")

    def __init__(self) -> None:
        # address -> account, or None for an account that no longer exists
        self.accounts: dict[bytes, _Account | None] = {}
        self.storage: dict[bytes, dict[int, int]] = {}
        # accounts whose storage below this layer is gone
        self.wiped: set[bytes] = set()


class StateRootNotHere(NotImplementedError):
    """State roots come from merkle/, after execution; this database never makes one."""


class StoreAccountDB(BalRecording, AccountDatabaseAPI):
    def __init__(self, db: StateSource, state_root: bytes) -> None:  # type: ignore[override]
        super().__init__()  # BalRecording: not recording
        self._source = db
        self._root = state_root
        self._block = _Layer()
        self._tx = _Layer()
        self._undo: list[Callable[[], None]] = []
        self._checkpoints: dict[int, tuple[int, int]] = {}
        self._epoch = 0  # bumped by lock_changes: older checkpoints cannot be discarded into
        self._warm: set[bytes | tuple[bytes, int]] = set()
        self._new_code: dict[bytes, bytes] = {}
        # The base's accounts as read so far: a transaction reads its sender, recipient and the
        # coinbase several times, and each read of the source built the same tuple again.
        self._base_accounts: dict[bytes, _Account | None] = {}
        # The base's claimed changes (start_from): accounts laid over the parent's when first read;
        # slots, and accounts whose parent storage is gone, in a layer of their own.
        self._base_claims: dict[bytes, _Claim] = {}
        self._base = _Layer()
        # Block-layer accounts known by some fields only (apply_deltas), resolved when first used.
        self._pending: dict[bytes, _Claim] = {}

    # -- the root is fixed: it is the parent's --------------------------------

    @property
    def state_root(self) -> bytes:
        return self._root

    @state_root.setter
    def state_root(self, value: bytes) -> None:
        if value != self._root:
            raise StateRootNotHere("the account database cannot move to another state root")

    def has_root(self, state_root: bytes) -> bool:
        return state_root == self._root

    def make_state_root(self) -> bytes:
        raise StateRootNotHere("state roots are computed by merkle/ from account_deltas()")

    def persist(self):  # type: ignore[no-untyped-def]
        raise StateRootNotHere("blocks are committed by the blockchain in one store batch")

    # -- accounts ---------------------------------------------------------

    def _account(self, address: bytes) -> _Account | None:
        found = self._tx.accounts.get(address, _MISSING)
        if found is _MISSING:
            return self._account_below(address)
        return found  # type: ignore[return-value]

    def _account_below(self, address: bytes) -> _Account | None:
        """The account as the block layer (earlier transactions) over the base has it."""
        found = self._block.accounts.get(address, _MISSING)
        if found is _MISSING:
            found = self._base_accounts.get(address, _MISSING)
            if found is _MISSING:
                found = self._base_account(address)
            if self._pending:
                pending = self._pending.pop(address, None)
                if pending is not None:
                    found = self._block.accounts[address] = pending.over(found)  # type: ignore[arg-type]
        return found  # type: ignore[return-value]

    def _base_account(self, address: bytes) -> _Account | None:
        """Read the account from the parent state, lay its claim (if any) over it, and keep it."""
        record = self._source.account(address)
        found = None if record is None else _Account(record.nonce, record.balance, record.code_hash)
        claim = self._base_claims.get(address)
        if claim is not None:
            found = claim.over(found)
        self._base_accounts[address] = found
        return found

    def _journaled_set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        """Set ``mapping[key]`` in the transaction layer, logging how to undo it."""
        previous = mapping.get(key, _MISSING)
        if previous is _MISSING:
            self._undo.append(lambda: mapping.pop(key, None))
        else:
            self._undo.append(lambda: mapping.__setitem__(key, previous))
        mapping[key] = value

    def _set_account(self, address: bytes, account: _Account | None) -> None:
        self._journaled_set(self._tx.accounts, address, account)

    def _current(self, address: bytes) -> _Account:
        return self._account(address) or _EMPTY_ACCOUNT

    def _current_below(self, address: bytes) -> _Account:
        return self._account_below(address) or _EMPTY_ACCOUNT

    def get_balance(self, address: bytes) -> int:
        if self._touched is not None:
            self._touched.add(address)
        return self._current(address).balance

    def set_balance(self, address: bytes, balance: int) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._set_account(address, self._current(address)._replace(balance=balance))

    def get_nonce(self, address: bytes) -> int:
        if self._touched is not None:
            self._touched.add(address)
        return self._current(address).nonce

    def set_nonce(self, address: bytes, nonce: int) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._set_account(address, self._current(address)._replace(nonce=nonce))

    def increment_nonce(self, address: bytes) -> None:
        self.set_nonce(address, self.get_nonce(address) + 1)

    def get_code_hash(self, address: bytes) -> bytes:
        if self._touched is not None:
            self._touched.add(address)
        return self._current(address).code_hash

    def get_code(self, address: bytes) -> bytes:
        return self._code(self.get_code_hash(address))

    def _code(self, code_hash: bytes) -> bytes:
        if code_hash == EMPTY_CODE_HASH:
            return b""
        code = self._new_code.get(code_hash)
        return code if code is not None else self._source.code(code_hash)

    def set_code(self, address: bytes, code: bytes) -> None:
        if self._touched is not None:
            self._touched.add(address)
        code_hash = keccak(code)
        self._new_code[code_hash] = code
        self._set_account(address, self._current(address)._replace(code_hash=code_hash))

    def delete_code(self, address: bytes) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._set_account(address, self._current(address)._replace(code_hash=EMPTY_CODE_HASH))

    def account_exists(self, address: bytes) -> bool:
        if self._touched is not None:
            self._touched.add(address)
        return self._account(address) is not None

    def account_has_code_or_nonce(self, address: bytes) -> bool:
        if self._touched is not None:
            self._touched.add(address)
        account = self._current(address)
        return account.nonce != 0 or account.code_hash != EMPTY_CODE_HASH

    def account_is_empty(self, address: bytes) -> bool:
        return not self.account_has_code_or_nonce(address) and self.get_balance(address) == 0

    def touch_account(self, address: bytes) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._set_account(address, self._current(address))

    def delete_account(self, address: bytes) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._wipe_storage(address)
        self._set_account(address, None)

    # -- storage ----------------------------------------------------------

    def get_storage(self, address: bytes, slot: int, from_journal: bool = True) -> int:
        if from_journal:
            if self._reads is not None:
                self._reads.add((address, slot))
            slots = self._tx.storage.get(address)
            if slots is not None and slot in slots:
                return slots[slot]
            if address in self._tx.wiped:
                return 0
        return self._storage_below(address, slot)

    def _storage_below(self, address: bytes, slot: int) -> int:
        slots = self._block.storage.get(address)
        if slots is not None and slot in slots:
            return slots[slot]
        if address in self._block.wiped:
            return 0
        if self._base.storage:  # only a later part's (start_from): one test per read otherwise
            return self._base_storage(address, slot)
        return self._source.storage(address, slot)

    def _base_storage(self, address: bytes, slot: int) -> int:
        """The slot's value in the base: as claimed, else the parent's."""
        base = self._base
        slots = base.storage.get(address)
        if slots is not None and slot in slots:
            return slots[slot]
        if address in base.wiped:
            return 0
        return self._source.storage(address, slot)

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        if self._recorder is not None:
            # Every write path reads first: an unchanged write stays a read.
            self._unit_slots.add((address, slot))
            touched, reads = self._touched, self._reads
            if touched is not None and reads is not None:  # both, unless paused
                reads.add((address, slot))
                touched.add(address)
        self._journaled_set(self._tx.storage.setdefault(address, {}), slot, value)

    def account_has_storage(self, address: bytes) -> bool:
        """Whether ``address`` holds any nonzero slot now (EIP-7610), recording no read.

        The parent's part is judged by its storage root: a parent slot zeroed
        in this block without any other write would still count (no EF
        fixture builds that case).
        """
        tx_slots = self._tx.storage.get(address, {})
        if any(tx_slots.values()):
            return True
        if address in self._tx.wiped:
            return False
        block_slots = self._block.storage.get(address, {})
        if any(value for slot, value in block_slots.items() if slot not in tx_slots):
            return True
        if address in self._block.wiped:
            return False
        base_slots = self._base.storage.get(address, {})
        above = tx_slots.keys() | block_slots.keys()
        if any(value for slot, value in base_slots.items() if slot not in above):
            return True
        if address in self._base.wiped:
            return False
        record = self._source.account(address)
        return record is not None and record.storage_root != EMPTY_ROOT

    def delete_storage(self, address: bytes) -> None:
        if self._touched is not None:
            self._touched.add(address)
        self._wipe_storage(address)

    def _wipe_storage(self, address: bytes) -> None:
        tx = self._tx
        was_wiped = address in tx.wiped
        previous_slots = tx.storage.get(address)

        def undo() -> None:
            if not was_wiped:
                tx.wiped.discard(address)
            if previous_slots is None:
                tx.storage.pop(address, None)
            else:
                tx.storage[address] = previous_slots

        self._undo.append(undo)
        tx.wiped.add(address)
        tx.storage[address] = {}

    # -- EIP-2929 warm sets (journaled, reset per transaction) --------------

    def _warm_up(self, key: bytes | tuple[bytes, int]) -> None:
        if key not in self._warm:
            self._warm.add(key)
            self._undo.append(lambda: self._warm.discard(key))

    def is_address_warm(self, address: bytes) -> bool:
        return address in self._warm

    def mark_address_warm(self, address: bytes) -> None:
        self._warm_up(address)

    def is_storage_warm(self, address: bytes, slot: int) -> bool:
        return (address, slot) in self._warm

    def mark_storage_warm(self, address: bytes, slot: int) -> None:
        self._warm_up((address, slot))

    # -- snapshots ----------------------------------------------------------

    def record(self) -> int:  # type: ignore[override]
        # py-evm's other journals (transient storage) reuse this number and
        # require it unique for their lifetime: take it from py-evm's counter.
        checkpoint = get_next_checkpoint()
        self._checkpoints[checkpoint] = (self._epoch, len(self._undo))
        return checkpoint

    def discard(self, checkpoint: int) -> None:  # type: ignore[override]
        epoch, position = self._checkpoints.pop(checkpoint)
        if epoch != self._epoch:
            # Recorded before the current transaction began: like py-evm, roll
            # back the whole transaction layer, never the locked block layer.
            position = 0
        while len(self._undo) > position:
            self._undo.pop()()

    def commit(self, checkpoint: int) -> None:  # type: ignore[override]
        self._checkpoints.pop(checkpoint)

    def lock_changes(self) -> None:
        """Fold the transaction layer into the block layer; a new transaction starts."""
        if self._recorder is not None:
            self._capture_unit()
        tx, block = self._tx, self._block
        for address in tx.wiped:
            block.wiped.add(address)
            block.storage[address] = {}
        for address, slots in tx.storage.items():
            block.storage.setdefault(address, {}).update(slots)
        block.accounts.update(tx.accounts)
        self._tx = _Layer()
        self._undo.clear()
        self._epoch += 1
        self._warm = set()

    # -- the block's result ---------------------------------------------------

    def account_deltas(self) -> list[AccountDelta]:
        """Every account the block layer changed, as deltas (for the merkleizer, or a later part's end).

        What :meth:`start_from` laid under the block is not among them.
        """
        self.lock_changes()
        for address in list(self._pending):
            self._account_below(address)
        block = self._block
        deltas = []
        for address in block.accounts.keys() | block.storage.keys() | block.wiped:
            account = block.accounts.get(address, _MISSING)
            storage = MappingProxyType(dict(block.storage.get(address, {})))
            cleared = address in block.wiped
            if account is None:
                deltas.append(AccountDelta(address, 0, 0, b"", storage, storage_cleared=True))
                continue
            if account is _MISSING:  # only storage changed
                deltas.append(AccountDelta(address, storage=storage, storage_cleared=cleared))
                continue
            parent = self._source.account(address)
            parent_code_hash = parent.code_hash if parent is not None else EMPTY_CODE_HASH
            code = None if account.code_hash == parent_code_hash else self._code(account.code_hash)
            deltas.append(
                AccountDelta(
                    address,
                    balance=account.balance,
                    nonce=account.nonce,
                    code=code,
                    storage=storage,
                    storage_cleared=cleared,
                )
            )
        return deltas

    def apply_deltas(self, deltas: Iterable[AccountDelta]) -> None:
        """Lay ``deltas`` over the block layer: state that transactions run elsewhere produced.

        Used between two units (the transaction layer is empty): before
        transactions taken from the end of a later part (the state the BAL
        claims before them), and after a later part (the state it ended in).
        Nothing is recorded: the changes belong to units recorded elsewhere.
        An account named by some of its fields only, and not yet in the block
        layer, is read (and the fields laid over it) when first used. An
        account left empty is gone (EIP-161: a touched empty account is deleted).
        """
        tx = self._tx
        if tx.accounts or tx.storage or tx.wiped:
            raise RecordingError("apply_deltas with transaction-layer writes pending")
        block, pending = self._block, self._pending
        for delta in deltas:
            address = delta.address
            self._lay_storage(block, delta)
            claim = self._claim(delta)
            if claim is None:
                continue
            current = block.accounts.get(address, _MISSING)
            if current is not _MISSING:
                block.accounts[address] = claim.over(current)  # type: ignore[arg-type]
            elif claim.is_whole():
                pending.pop(address, None)
                block.accounts[address] = claim.over(None)
            else:
                earlier = pending.get(address)
                pending[address] = claim if earlier is None else earlier.then(claim)

    def start_from(self, deltas: Iterable[AccountDelta]) -> None:
        """Make ``deltas`` (the state a BAL claims after a block's first transactions) the base.

        A later part of a block runs from there (``forks.amsterdam.later_part``).
        Each claimed account is read, and the claim laid over it, only when
        used. The claims are not the part's changes: :meth:`account_deltas`
        leaves them out (the process that ran the first transactions has them).
        Only an account the block layer already holds (py-evm's state writes the
        system contracts' code when it is missing) takes its claim there.
        """
        tx = self._tx
        if tx.accounts or tx.storage or tx.wiped:
            raise RecordingError("start_from with transaction-layer writes pending")
        block, base = self._block, self._base
        over_block = []
        for delta in deltas:
            address = delta.address
            if address in block.accounts or address in block.storage or address in block.wiped:
                over_block.append(delta)
                continue
            self._lay_storage(base, delta)
            claim = self._claim(delta)
            if claim is None:
                continue
            self._base_claims[address] = claim
            read = self._base_accounts.get(address, _MISSING)
            if read is not _MISSING:
                self._base_accounts[address] = claim.over(read)  # type: ignore[arg-type]
        self.apply_deltas(over_block)

    @staticmethod
    def _lay_storage(layer: _Layer, delta: AccountDelta) -> None:
        """Put ``delta``'s storage in ``layer``: its parent storage gone first if it says so."""
        address = delta.address
        if delta.storage_cleared:
            layer.wiped.add(address)
            layer.storage[address] = {}
        if delta.storage:
            layer.storage.setdefault(address, {}).update(delta.storage)

    def _claim(self, delta: AccountDelta) -> _Claim | None:
        """The account fields ``delta`` sets (its new code kept here), or None if it sets none."""
        if delta.balance is None and delta.nonce is None and delta.code is None:
            return None
        code_hash = None
        if delta.code is not None:
            code_hash = keccak(delta.code) if delta.code else EMPTY_CODE_HASH
            self._new_code[code_hash] = delta.code
        return _Claim(delta.balance, delta.nonce, code_hash)
