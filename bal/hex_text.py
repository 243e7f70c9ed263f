"""Hex text to bytes, strictly: ``0x`` and an even number of plain hex digits (JSON-RPC's DATA).

The Engine API's parameters and a BAL's JSON form both carry bytes this way.
``bytes.fromhex`` alone is not the rule: it also skips whitespace between
digit pairs. It lives in ``bal``, the lowest layer, so that every layer reads
hex the same way.
"""

from __future__ import annotations


def hex_data(text: object) -> bytes | None:
    """The bytes ``text`` spells as ``0x`` and an even number of hex digits; None for anything else.

    ``bytes.fromhex`` refuses everything but hex digit pairs and whitespace,
    and skipped whitespace shows as a decoded length short of the text's: one
    native pass, where a regular expression over each digit pair took 1.7 ms
    for a 30 kB BAL.
    """
    if not isinstance(text, str) or not text.startswith("0x"):
        return None
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        return None
    return raw if 2 * len(raw) == len(text) - 2 else None
