"""Reading packs: plain, gzipped files, .tar and .tar.gz archives, and the errors a broken pack raises."""

from __future__ import annotations

import gzip
import json
import tarfile
from pathlib import Path

import pytest
from pack_builder import access, slot, transaction, write_pack

from client.tools.dossier.model import AccessSource
from client.tools.dossier.trace_pack import (
    PackAccessInvalid,
    PackBlockInvalid,
    PackFileMissing,
    PackManifestInvalid,
    read_trace_pack,
)

BLOCKS = {
    5: [
        transaction(0, [access(1, 1, "write")]),
        transaction(1, [access(1, 1, "read"), access(2, None, "call")]),
    ],
    6: [transaction(0, [access(3, 0x2A, "read_write")], gas=None)],
}


def summary(source: AccessSource) -> list[tuple[int, int, frozenset, frozenset, int | None]]:
    return [
        (block.number, tx.tx_index, tx.reads, tx.writes, tx.gas_used)
        for block in source.blocks
        for tx in block.transactions
    ]


@pytest.fixture
def plain(tmp_path: Path) -> AccessSource:
    return read_trace_pack(write_pack(tmp_path / "plain", BLOCKS))


def test_plain_pack_keys(plain: AccessSource) -> None:
    assert (plain.start_block, plain.end_block, plain.chain) == (5, 6, "test")
    [(_, _, reads, writes, _)] = [row for row in summary(plain) if row[:2] == (6, 0)]
    assert reads == writes == {("0x" + f"{3:040x}", slot(0x2A))}
    assert not plain.gas_complete


def test_gzipped_files(tmp_path: Path, plain: AccessSource) -> None:
    root = write_pack(tmp_path / "gz", BLOCKS, gzip_blocks=True)
    manifest = root / "manifest.json"
    (root / "manifest.json.gz").write_bytes(gzip.compress(manifest.read_bytes()))
    manifest.unlink()
    assert summary(read_trace_pack(root)) == summary(plain)


def test_gzip_bytes_under_a_plain_name(tmp_path: Path, plain: AccessSource) -> None:
    root = write_pack(tmp_path / "sniffed", BLOCKS)
    block = root / "blocks" / "5.json"
    block.write_bytes(gzip.compress(block.read_bytes()))
    assert summary(read_trace_pack(root)) == summary(plain)


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz")])
def test_archives(tmp_path: Path, plain: AccessSource, suffix: str, mode: str) -> None:
    root = write_pack(tmp_path / "packed", BLOCKS, gzip_blocks=True)
    archive = tmp_path / f"pack{suffix}"
    with tarfile.open(archive, mode) as tar:
        tar.add(root, arcname="some-pack")
    assert summary(read_trace_pack(archive)) == summary(plain)


def test_progress_callback_counts_blocks(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    read_trace_pack(
        write_pack(tmp_path / "p", BLOCKS), on_block=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 2), (2, 2)]


def test_missing_block_file(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", BLOCKS)
    (root / "blocks" / "6.json").unlink()
    with pytest.raises(PackFileMissing, match="blocks/6.json"):
        read_trace_pack(root)


def test_not_a_pack(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(PackFileMissing):
        read_trace_pack(tmp_path / "x.txt")


def test_inverted_range(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", BLOCKS)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["start_block"], manifest["end_block"] = 6, 5
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PackManifestInvalid, match="start_block"):
        read_trace_pack(root)


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(PackAccessInvalid, match="unknown kind 'peek'"):
        read_trace_pack(write_pack(tmp_path / "p", {1: [transaction(0, [access(1, 1, "peek")])]}))


def test_malformed_address(tmp_path: Path) -> None:
    bad = access(1, 1, "read")
    bad["address"] = "0x1234"
    with pytest.raises(PackAccessInvalid, match="address"):
        read_trace_pack(write_pack(tmp_path / "p", {1: [transaction(0, [bad])]}))


def test_duplicate_tx_index(tmp_path: Path) -> None:
    with pytest.raises(PackBlockInvalid, match="duplicate tx_index"):
        read_trace_pack(write_pack(tmp_path / "p", {1: [transaction(0, []), transaction(0, [])]}))


def test_block_gas_total_must_match(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", {1: [transaction(0, [], gas=10), transaction(1, [], gas=20)]})
    block = json.loads((root / "blocks" / "1.json").read_text())
    block["total_gas_used"] = 31
    (root / "blocks" / "1.json").write_text(json.dumps(block))
    with pytest.raises(PackBlockInvalid, match="total_gas_used 31"):
        read_trace_pack(root)


def test_transaction_warnings_are_counted_once_per_text(tmp_path: Path) -> None:
    flagged = [transaction(index, [access(1, 1, "read")]) for index in range(3)]
    for tx in flagged[:2]:
        tx["warnings"] = ["reads incomplete"]
    source = read_trace_pack(write_pack(tmp_path / "p", {1: flagged}))
    assert "2 transactions: reads incomplete" in source.warnings
