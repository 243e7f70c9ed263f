"""Jump-destination analysis shared by every run of the same code.

py-evm's ``CodeStream`` finds out whether a JUMP/JUMPI target is code or
PUSH data by looking back up to 32 bytes, and remembers the answer in two
sets on the stream; but each message gets a new stream, so a contract called
by 200 transactions in a block is analysed 200 times (on the bench chain
about 1% of the executor's time, more for contracts with many jumps). The
answers depend on the code bytes only, so the sets are kept per code
(content-addressed, the same thing as per code hash, never per address) and
handed to every new stream of that code.
"""

from __future__ import annotations

from typing import Any

# Codes whose analysis is kept; past this many the table starts again (a block runs far fewer).
MAX_CODES = 4096

_analysis: dict[bytes, tuple[set[int], set[int]]] = {}


def jump_analysis(code: bytes) -> tuple[set[int], set[int]]:
    """The (valid, invalid) jump-destination sets of ``code``, shared by every stream of it."""
    known = _analysis.get(code)
    if known is None:
        if len(_analysis) >= MAX_CODES:
            _analysis.clear()
        known = _analysis[code] = (set(), set())
    return known


class SharedJumpAnalysis:
    """Computation mixin: the message's code stream answers from, and adds to, its code's shared analysis."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code = self.code  # type: ignore[has-type]
        code.valid_positions, code.invalid_positions = jump_analysis(self.msg.code)  # type: ignore[attr-defined]
