"""Writing and reading a bench chain directory (the format is in the package docstring).

Reading checks every file against the sha256 that ``chain.json`` records, so
a truncated or edited file is named in a :class:`BenchChainError` instead of
surfacing later as a rejected block.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bal import BalError, BlockAccessList, decode_bal, encode_bal
from client.chain_config import ChainConfig, UnsupportedChainConfig, config_from_geth_genesis

FORMAT = "balrex-bench-chain"
FORMAT_VERSION = 1
GENESIS_FILE = "genesis.json"
BLOCKS_FILE = "blocks.rlp"
BALS_FILE = "bals.rlp"
METADATA_FILE = "chain.json"
CHAIN_FILES = (GENESIS_FILE, BLOCKS_FILE, BALS_FILE, METADATA_FILE)


class BenchChainError(ValueError):
    """Bad generator arguments, or a bench chain directory that is missing, foreign or corrupt."""


@dataclass(frozen=True)
class BenchChain:
    genesis: dict[str, Any]
    config: ChainConfig
    # Blocks 1..N, each the RLP of a whole block.
    blocks: list[bytes]
    # The BAL of each block (Amsterdam), or None for each block (earlier forks).
    bals: list[BlockAccessList | None]
    metadata: dict[str, Any]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare_out_dir(out: Path) -> None:
    """Make ``out`` ready for a new chain: absent, empty, or holding a chain this format wrote."""
    if out.exists() and not out.is_dir():
        raise BenchChainError(f"{out} exists and is not a directory")
    if out.is_dir():
        entries = sorted(entry.name for entry in out.iterdir())
        if entries and not (set(entries) <= set(CHAIN_FILES) and _is_bench_chain(out / METADATA_FILE)):
            raise BenchChainError(
                f"{out} is not empty and does not hold a bench chain ({', '.join(entries[:5])})"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BenchChainError(f"{out} is not writable: {exc.strerror or exc}") from None


def _is_bench_chain(metadata_path: Path) -> bool:
    try:
        return json.loads(metadata_path.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def write_chain(
    out: Path,
    genesis: dict[str, Any],
    blocks: Sequence[bytes],
    bals: Sequence[BlockAccessList] | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Write the chain files into the prepared ``out``; return the metadata as written (with hashes)."""
    contents = {
        GENESIS_FILE: json.dumps(genesis, separators=(",", ":")).encode() + b"\n",
        BLOCKS_FILE: b"".join(blocks),
    }
    if bals is not None:
        contents[BALS_FILE] = b"".join(encode_bal(bal) for bal in bals)
    else:
        (out / BALS_FILE).unlink(missing_ok=True)  # left by an earlier chain of a BAL fork
    for name, data in contents.items():
        (out / name).write_bytes(data)
    written = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **metadata,
        "files": {name: sha256_hex(data) for name, data in contents.items()},
    }
    (out / METADATA_FILE).write_text(json.dumps(written, indent=2) + "\n")
    return written


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BenchChainError(f"{path.name} is missing in {path.parent}") from None
    except OSError as exc:
        raise BenchChainError(f"cannot read {path}: {exc.strerror or exc}") from None


def split_rlp_items(data: bytes, name: str) -> list[bytes]:
    """The RLP items concatenated in ``data`` (how geth's ``export`` writes blocks)."""
    items, position = [], 0
    while position < len(data):
        prefix = data[position]
        if prefix < 0x80:
            header, length = 1, 0
        elif prefix < 0xB8:
            header, length = 1, prefix - 0x80
        elif prefix < 0xC0:
            width = prefix - 0xB7
            header, length = 1 + width, int.from_bytes(data[position + 1 : position + 1 + width], "big")
        elif prefix < 0xF8:
            header, length = 1, prefix - 0xC0
        else:
            width = prefix - 0xF7
            header, length = 1 + width, int.from_bytes(data[position + 1 : position + 1 + width], "big")
        end = position + header + length
        if end > len(data):
            raise BenchChainError(f"{name}: item {len(items)} at byte {position} is truncated")
        items.append(data[position:end])
        position = end
    return items


def load_chain(path: Path) -> BenchChain:
    """Read and check the bench chain in ``path``; BenchChainError names what is wrong."""
    if not path.is_dir():
        raise BenchChainError(f"{path} is not a bench chain directory (it does not exist)")
    try:
        metadata = json.loads(_read(path / METADATA_FILE))
    except ValueError as exc:
        raise BenchChainError(f"{METADATA_FILE} is not JSON: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise BenchChainError(f"{METADATA_FILE} is not a {FORMAT} file")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise BenchChainError(
            f"{METADATA_FILE}: format version {metadata.get('format_version')} is not supported"
        )
    files = metadata.get("files")
    if not isinstance(files, dict) or not {GENESIS_FILE, BLOCKS_FILE} <= set(files):
        raise BenchChainError(f"{METADATA_FILE} does not list the sha256 of {GENESIS_FILE} and {BLOCKS_FILE}")
    contents = {}
    for name, expected in files.items():
        data = _read(path / name)
        if sha256_hex(data) != expected:
            raise BenchChainError(
                f"{name} does not match its sha256 in {METADATA_FILE} (truncated or modified)"
            )
        contents[name] = data
    genesis = json.loads(contents[GENESIS_FILE])
    try:
        config = config_from_geth_genesis(genesis["config"])
    except (KeyError, UnsupportedChainConfig) as exc:
        raise BenchChainError(f"{GENESIS_FILE}: bad config: {exc}") from None
    blocks = split_rlp_items(contents[BLOCKS_FILE], BLOCKS_FILE)
    if len(blocks) != metadata["blocks"]:
        raise BenchChainError(
            f"{BLOCKS_FILE} holds {len(blocks)} blocks, {METADATA_FILE} says {metadata['blocks']}"
        )
    bals: list[BlockAccessList | None] = [None] * len(blocks)
    if BALS_FILE in contents:
        encoded = split_rlp_items(contents[BALS_FILE], BALS_FILE)
        # A chain that crosses into Amsterdam has BALs from its first Amsterdam block on.
        first = metadata.get("first_bal_block", 1)
        if not isinstance(first, int) or len(encoded) != len(blocks) - first + 1:
            raise BenchChainError(
                f"{BALS_FILE} holds {len(encoded)} BALs for blocks {first}..{len(blocks)} ({METADATA_FILE})"
            )
        try:
            bals[first - 1 :] = [decode_bal(item) for item in encoded]
        except BalError as exc:
            raise BenchChainError(f"{BALS_FILE}: {exc}") from None
    return BenchChain(genesis=genesis, config=config, blocks=blocks, bals=bals, metadata=metadata)
