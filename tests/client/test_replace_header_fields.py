"""A header copied with some fields replaced is the header ``copy`` would give, caches not carried over."""

from __future__ import annotations

import pytest
import rlp
from eth.vm.forks.prague.blocks import PragueBlockHeader

from client.forks.store_mixins import replace_header_fields


def _header() -> PragueBlockHeader:
    return PragueBlockHeader(
        difficulty=0,
        block_number=7,
        gas_limit=30_000_000,
        timestamp=84,
        parent_hash=b"\x01" * 32,
        bloom=0b1010,
        gas_used=21_000,
        blob_gas_used=131_072,
    )


def test_the_copy_equals_pyrlp_copy_and_hashes_as_its_fields() -> None:
    header = _header()
    assert header.hash  # fills the original's hash and encoding caches
    replaced = replace_header_fields(header, gas_used=63_000, bloom=0b1110)
    expected = header.copy(gas_used=63_000, bloom=0b1110)
    assert type(replaced) is PragueBlockHeader
    assert rlp.encode(replaced) == rlp.encode(expected)
    assert replaced.hash == expected.hash != header.hash
    assert (header.gas_used, header.bloom) == (21_000, 0b1010)  # the original is untouched


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(KeyError):
        replace_header_fields(_header(), gas_spent=1)
