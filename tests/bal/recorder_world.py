"""The recorder tests' parent state: A (a contract with storage), D (a funded EOA); B and C absent."""

from __future__ import annotations

from state_world import ParentState, committed_state, new_db

from bal.deltas import AccountDelta

__all__ = ["CODE", "NEW_CODE", "A", "B", "C", "D", "new_db", "parent_state"]

A, B, C, D = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20, b"\x0d" * 20
CODE = b"\x60\x01\x60\x00\x55"
NEW_CODE = b"\x60\x02\x60\x00\x55\x00"


def parent_state() -> ParentState:
    """A store holding A and D (the parent state of every recorder test), and its root."""
    return committed_state(
        [
            AccountDelta(A, balance=100, nonce=3, code=CODE, storage={1: 11, 2: 22}),
            AccountDelta(D, balance=50),
        ]
    )
