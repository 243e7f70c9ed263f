"""client.block_decoding gives what pyrlp's sedes decode gives: the same objects, or the same refusal."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import rlp
from eth_utils import to_bytes
from fixture_files import release_archive, unpack_archive

from client import block_decoding
from client.block_decoding import decode_block, decode_transaction
from client.chain_config import Fork
from client.forks import FORK_VMS

ALL_TYPES = "for_amsterdam/amsterdam/eip7708_eth_transfer_logs/transfer_logs/transfer_with_all_tx_types.json"
BLOCK_CLASS: Any = FORK_VMS[Fork.AMSTERDAM].get_block_class()
BUILDER: Any = FORK_VMS[Fork.AMSTERDAM].get_transaction_builder()


@pytest.fixture(scope="module")
def all_type_blocks() -> list[bytes]:
    """Every block of the EF file whose tests each send one transaction type (0 to 4)."""
    root = unpack_archive(release_archive("for_amsterdam.tar.gz")) / "blockchain_tests"
    tests = json.loads((root / ALL_TYPES).read_text()).values()
    return [to_bytes(hexstr=block["rlp"]) for test in tests for block in test["blocks"]]


def _outcome(decode: Any, block_rlp: bytes) -> tuple[str, Any]:
    try:
        return "decoded", decode(block_rlp)
    except Exception as exc:  # the refusal itself is what is compared
        return type(exc).__name__, str(exc)


def _pyrlp(block_rlp: bytes) -> Any:
    return rlp.decode(block_rlp, sedes=BLOCK_CLASS)


def _ours(block_rlp: bytes) -> Any:
    return decode_block(BLOCK_CLASS, block_rlp)


def test_every_transaction_type_is_decoded_without_pyrlp(
    all_type_blocks: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [_pyrlp(block_rlp) for block_rlp in all_type_blocks]
    with monkeypatch.context() as patched:
        patched.setattr(block_decoding.rlp, "decode", None)  # the fallback would fail: the usual path must do
        decoded = [_ours(block_rlp) for block_rlp in all_type_blocks]
    types = {transaction.type_id or 0 for block in decoded for transaction in block.transactions}
    assert types == {0, 1, 2, 3, 4}  # legacy transactions have no type id
    for ours, theirs, block_rlp in zip(decoded, expected, all_type_blocks, strict=True):
        assert ours == theirs and type(ours) is type(theirs)
        assert ours._cached_rlp == block_rlp
        for mine, reference in zip(ours.transactions, theirs.transactions, strict=True):
            assert type(mine) is type(reference)
            assert mine.encode() == reference.encode() and mine.hash == reference.hash
            assert mine.sender == reference.sender
            if mine.type_id is not None:  # the type byte this module fills in is py-evm's own
                assert mine._type_byte == reference._type_byte


def test_transactions_from_their_encodings_equal_the_builder_s(all_type_blocks: list[bytes]) -> None:
    for block_rlp in all_type_blocks:
        encodings = [BUILDER.deserialize(item).encode() for item in rlp.decode(block_rlp)[1]]
        ours = [decode_transaction(BUILDER, encoding) for encoding in encodings]
        theirs = [BUILDER.decode(encoding) for encoding in encodings]
        assert ours == theirs and [type(t) for t in ours] == [type(t) for t in theirs]
        assert [t.encode() for t in ours] == encodings


# a zero byte, and the prefixes of an empty string, an empty list and a long list
SPECIAL_BYTES = (0x00, 0x80, 0xC0, 0xF8)


def test_a_changed_byte_is_refused_or_read_exactly_as_pyrlp_does(all_type_blocks: list[bytes]) -> None:
    """Single-byte changes all over each block: whatever pyrlp makes of them, decode_block makes too."""
    generator = random.Random(7928)
    compared = refused = 0
    for block_rlp in all_type_blocks:
        for position in range(len(block_rlp)):
            for value in (SPECIAL_BYTES[position % len(SPECIAL_BYTES)], generator.randrange(256)):
                changed = block_rlp[:position] + bytes((value,)) + block_rlp[position + 1 :]
                expected = _outcome(_pyrlp, changed)
                assert _outcome(_ours, changed) == expected, (position, value)
                compared += 1
                refused += expected[0] != "decoded"
    assert refused and refused < compared  # both kinds were met


def _typed(type_id: int, fields: list[Any]) -> bytes:
    return bytes((type_id,)) + rlp.encode(fields)


def _block_with(transaction: bytes, all_type_blocks: list[bytes]) -> bytes:
    header, _, uncles, withdrawals = rlp.decode(all_type_blocks[0])
    return rlp.encode([header, [transaction], uncles, withdrawals])


DYNAMIC_FEE = [1, 0, 1, 2, 21_000, b"\x11" * 20, 1, b"", [], 1, 1, 1]
# an access list whose storage key is one byte, not 32
SHORT_SLOT_ACCESSES = [[b"\x22" * 20, [b"\x01"]]]


@pytest.mark.parametrize(
    "transaction",
    [
        pytest.param(_typed(2, DYNAMIC_FEE), id="usual"),
        pytest.param(b"\x02" + rlp.encode([b"\x00\x01", *DYNAMIC_FEE[1:]]), id="leading-zero-int"),
        pytest.param(_typed(2, [*DYNAMIC_FEE[:5], b"\x11" * 19, *DYNAMIC_FEE[6:]]), id="short-address"),
        pytest.param(_typed(2, DYNAMIC_FEE[:-1]), id="field-missing"),
        pytest.param(_typed(2, [*DYNAMIC_FEE[:8], SHORT_SLOT_ACCESSES, *DYNAMIC_FEE[9:]]), id="short-slot"),
        pytest.param(_typed(5, DYNAMIC_FEE), id="unknown-type"),
        pytest.param(b"", id="empty"),
        pytest.param(_typed(2, DYNAMIC_FEE) + b"\x00", id="trailing-byte"),
        pytest.param(b"\x02\x81\x05", id="non-canonical-byte"),
    ],
)
def test_hand_made_transactions(transaction: bytes, all_type_blocks: list[bytes]) -> None:
    block_rlp = _block_with(transaction, all_type_blocks)
    assert _outcome(_ours, block_rlp) == _outcome(_pyrlp, block_rlp)
