"""A tiny EVM assembler, because the machine has no Solidity compiler.

A program is a flat list of items:

* an opcode mnemonic as py-evm spells it (``"SLOAD"``, ``"SHA3"`` for KECCAK256);
* an ``int``: pushed with the smallest PUSH that holds it (``PUSH0`` for zero);
* :class:`Push`: a value pushed with a fixed width (for 4-byte selectors,
  20-byte addresses, anything whose width should not depend on its value);
* :class:`Label`: a jump destination (emits ``JUMPDEST``);
* :class:`Ref`: the offset of a label, always pushed as ``PUSH2`` so offsets
  are known after one pass.

Programs are built in Python, so "macros" are just functions returning lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth.vm import opcode_values


class AssemblyError(ValueError):
    """The program is not assemblable (unknown mnemonic, undefined label, oversized push)."""


@dataclass(frozen=True)
class Push:
    value: int
    width: int


@dataclass(frozen=True)
class Label:
    name: str


@dataclass(frozen=True)
class Ref:
    name: str


Item = str | int | Push | Label | Ref

_REF_WIDTH = 2


def _push(value: int, width: int) -> bytes:
    if width == 0:
        return bytes([opcode_values.PUSH0])
    if not 1 <= width <= 32 or value < 0 or value.bit_length() > 8 * width:
        raise AssemblyError(f"cannot push {value} in {width} bytes")
    return bytes([opcode_values.PUSH1 + width - 1]) + value.to_bytes(width, "big")


def _opcode(mnemonic: str) -> int:
    value = getattr(opcode_values, mnemonic, None)
    if not isinstance(value, int) or mnemonic.startswith("PUSH"):
        raise AssemblyError(f"unknown or explicit-push mnemonic {mnemonic!r}")
    return value


def _size(item: Item) -> int:
    if isinstance(item, int):
        return 1 + (item.bit_length() + 7) // 8
    if isinstance(item, Push):
        return 1 + item.width
    if isinstance(item, Ref):
        return 1 + _REF_WIDTH
    return 1


def assemble(program: Sequence[Item]) -> bytes:
    """The bytecode of ``program``: labels resolved in a first pass over the item sizes."""
    labels: dict[str, int] = {}
    offset = 0
    for item in program:
        if isinstance(item, Label):
            if item.name in labels:
                raise AssemblyError(f"label {item.name!r} defined twice")
            labels[item.name] = offset
        offset += _size(item)
    code = bytearray()
    for item in program:
        if isinstance(item, Label):
            code.append(opcode_values.JUMPDEST)
        elif isinstance(item, Ref):
            if item.name not in labels:
                raise AssemblyError(f"undefined label {item.name!r}")
            code += _push(labels[item.name], _REF_WIDTH)
        elif isinstance(item, Push):
            code += _push(item.value, item.width)
        elif isinstance(item, int):
            code += _push(item, (item.bit_length() + 7) // 8)
        else:
            code.append(_opcode(item))
    return bytes(code)
