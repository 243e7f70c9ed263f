"""Errors naming why a given block access list differs from the executed one.

A BAL handed to the pipeline is only a claim (pipeline.md §3): the join
compares it with the BAL the execution really produced
(:meth:`bal.recorder.BalRecorder.compare`) and, on any difference, rejects the
block with one of these exceptions. Each names the first difference found,
in the style of :mod:`bal.errors`: a stable ``rule``, a ``where`` naming the
account (and slot / field / index), and the two sides as attributes.

"Missing" means the execution has it and the given BAL does not; "extra"
means the given BAL claims it and the execution does not.
"""

from __future__ import annotations

from .errors import BalError


class BalMismatch(BalError):
    """The given BAL is well formed but is not the BAL the block produces."""

    rule = "bal-mismatch"

    def __init__(
        self,
        message: str,
        where: str = "",
        *,
        address: bytes | None = None,
        field: str | None = None,
        slot: int | None = None,
        index: int | None = None,
        executed: object = None,
        given: object = None,
    ) -> None:
        self.address = address
        self.field = field
        self.slot = slot
        self.index = index
        self.executed = executed
        self.given = given
        super().__init__(message, where)


class MissingAccount(BalMismatch):
    """Execution touched an account the given BAL does not list."""

    rule = "missing-account"


class ExtraAccount(BalMismatch):
    """The given BAL lists an account the execution never touched."""

    rule = "extra-account"


class MissingStorageRead(BalMismatch):
    """Execution read a slot (without changing it) that the given BAL does not list as read."""

    rule = "missing-storage-read"


class ExtraStorageRead(BalMismatch):
    """The given BAL lists a storage read the execution never made (or a slot it changed)."""

    rule = "extra-storage-read"


class MissingChange(BalMismatch):
    """Execution changed a field (storage slot, balance, nonce, code) at an index the BAL omits."""

    rule = "missing-change"


class ExtraChange(BalMismatch):
    """The given BAL claims a change at an index where the execution changed nothing."""

    rule = "extra-change"


class WrongPostValue(BalMismatch):
    """Both sides change the field at this index, to different post-values."""

    rule = "wrong-post-value"
