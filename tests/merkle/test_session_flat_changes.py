"""The optimistic merkleizer's flat-state changes equal the ones computed against the parent's flat state.

On the BAL path the merkleizer (``MerkleSession``) hands back the block's
``FlatChanges``, computed from the parent values its walk and stage B read in
the tries, and the node stores those instead of computing them after
execution from the flat state. Over random parent states and blocks
(accounts created, changed and emptied; slots set, changed and zeroed; some
accounts' storage cleared), both must be equal, parent values (``before``)
and encoding included, whether stage B runs in the session or is spread.
"""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bal.deltas import AccountDelta
from merkle import merkleize
from merkle.optimistic import MerkleResult, MerkleSession, compute_storage_roots
from merkle.stages import state_writes
from storage import EMPTY_ROOT, FlatChanges, FlatState, MemoryStore, WriteBatch

ADDRESSES = st.sampled_from([bytes([i]) * 20 for i in range(1, 7)])
SLOTS = st.integers(0, 5)
VALUES = st.sampled_from([0, 0, 1, 2, 2**255])
OPTIONAL_INT = st.none() | st.integers(0, 3)


@st.composite
def blocks(draw: st.DrawFn, *, clears: bool) -> list[AccountDelta]:
    chosen = draw(st.lists(ADDRESSES, unique=True, max_size=5))
    return [
        AccountDelta(
            address=address,
            balance=draw(OPTIONAL_INT),
            nonce=draw(OPTIONAL_INT),
            storage=MappingProxyType(draw(st.dictionaries(SLOTS, VALUES, max_size=4))),
            storage_cleared=clears and draw(st.booleans()),
        )
        for address in chosen
    ]


def _spread(store: MemoryStore, parent_root: bytes, deltas: list[AccountDelta]) -> MerkleResult:
    """Stage B on its own store handle, as a second worker runs it."""
    session = MerkleSession(store, parent_root, deltas)
    stage_b = compute_storage_roots(store, session.walk())
    return session.finish(stage_b.roots, stage_b.parent_slots)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genesis=blocks(clears=False), block=blocks(clears=True))
def test_the_sessions_flat_changes_are_the_ones_against_the_flat_state(
    genesis: list[AccountDelta], block: list[AccountDelta]
) -> None:
    store = MemoryStore()
    parent = merkleize(store, EMPTY_ROOT, genesis)
    batch = WriteBatch()
    parent.stage(batch, FlatState(store))
    store.commit(batch)

    in_session = MerkleSession(store, parent.state_root, block).run()
    for result in (in_session, _spread(store, parent.state_root, block)):
        writes = state_writes(result.state_root, result.nodes, block, result.accounts)
        expected = FlatChanges.of(writes, FlatState(store))
        assert result.flat_changes == expected
        assert result.flat_changes.before == expected.before
        assert result.flat_changes.encoding == expected.encoding
