"""client.forks.jump_analysis: streams of the same code share one jump-destination analysis."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth.vm.code_stream import CodeStream

from client.forks import jump_analysis
from client.forks.jump_analysis import SharedJumpAnalysis

# PUSH2 0x5b5b, JUMPDEST: positions 1 and 2 are PUSH data (0x5b bytes), 3 is a real JUMPDEST.
CODE = bytes.fromhex("615b5b5b")


@dataclass
class Message:
    code: bytes


class Computation:
    """The part of py-evm's BaseComputation the mixin relies on: ``msg`` and a new ``code`` stream."""

    def __init__(self, message: Message) -> None:
        self.msg = message
        self.code = CodeStream(message.code)


class SharingComputation(SharedJumpAnalysis, Computation):
    pass


@pytest.fixture(autouse=True)
def empty_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no code analysed (the table is process-wide)."""
    monkeypatch.setattr(jump_analysis, "_analysis", {})


def test_streams_of_one_code_share_their_answers() -> None:
    first = SharingComputation(Message(CODE))
    assert not first.code.is_valid_opcode(1)
    assert first.code.is_valid_opcode(3)
    # A second message of the same code (another bytes object) starts from those answers.
    second = SharingComputation(Message(bytes(bytearray(CODE))))
    assert second.code.invalid_positions == {1}
    assert second.code.valid_positions >= {0, 3}
    assert not second.code.is_valid_opcode(2)
    assert first.code.invalid_positions == {1, 2}


def test_other_code_has_its_own_analysis() -> None:
    SharingComputation(Message(CODE)).code.is_valid_opcode(1)
    other = SharingComputation(Message(bytes.fromhex("5b615b5b")))
    assert other.code.valid_positions == set() and other.code.invalid_positions == set()
    assert other.code.is_valid_opcode(0) and not other.code.is_valid_opcode(2)


def test_the_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jump_analysis, "MAX_CODES", 3)
    for length in range(10):
        jump_analysis.jump_analysis(b"\x5b" * (length + 1))
        assert len(jump_analysis._analysis) <= 3
