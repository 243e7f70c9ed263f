"""Reading a ``trace-pack-v1`` pack into the neutral model.

A pack is a folder holding ``manifest.json`` (``start_block``, ``end_block``,
``chain``, ...) and ``blocks/<number>.json`` per block; any of these files may
be gzipped (``name.json.gz``, or gzip bytes under the plain name), and the
folder may come as a ``.tar``/``.tar.gz`` archive (read in place, never
extracted). Each transaction's accesses ``{address, slot?, kind, op, pc, depth,
gas_remaining}`` become read and write key sets:

* exact duplicates (all seven fields equal) inside one transaction count once;
* ``read``/``call`` read, ``write``/``create``/``selfdestruct`` write,
  ``read_write``/``account_touch`` do both;
* an access without a slot is an account-level key (address alone).
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from .model import AccessSource, BlockAccesses, Key, TxAccesses

SCHEMA_VERSION = "trace-pack-v1"

READ_KINDS = frozenset({"read", "call"})
WRITE_KINDS = frozenset({"write", "create", "selfdestruct"})
BOTH_KINDS = frozenset({"read_write", "account_touch"})

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_SLOT = re.compile(r"0x[0-9a-f]{1,64}")
_GZIP_MAGIC = b"\x1f\x8b"


class TracePackError(ValueError):
    """A pack that cannot be read as ``trace-pack-v1``; the message names the file and the rule."""


class PackFileMissing(TracePackError):
    """The manifest or a block file of the manifest's range is absent."""


class PackManifestInvalid(TracePackError):
    """The manifest lacks its range, has an inverted range or another schema version."""


class PackBlockInvalid(TracePackError):
    """A block file contradicts itself or its manifest (number, duplicate tx_index, gas total)."""


class PackAccessInvalid(TracePackError):
    """An access has a malformed address or slot, or an unknown kind."""


class _PackFiles(Protocol):
    """Where a pack's files come from: a folder or an archive."""

    def read(self, name: str) -> bytes | None:
        """The raw bytes of ``name`` (relative to the pack root, ``/``-separated), or None."""
        ...


class _FolderFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None


class _TarFiles:
    """An archive's regular files by their path under the folder that holds ``manifest.json``."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self.archive = archive
        members = {PurePosixPath(member.name): member for member in archive.getmembers() if member.isfile()}
        manifests = sorted(
            (path for path in members if path.name in ("manifest.json", "manifest.json.gz")),
            key=lambda path: len(path.parts),
        )
        if not manifests:
            raise PackFileMissing(f"{archive.name}: no manifest.json in the archive")
        root = manifests[0].parent
        self.members = {
            path.relative_to(root).as_posix(): member
            for path, member in members.items()
            if path.is_relative_to(root)
        }

    def read(self, name: str) -> bytes | None:
        member = self.members.get(name)
        if member is None:
            return None
        handle = self.archive.extractfile(member)
        return None if handle is None else handle.read()


@contextmanager
def _open_pack(path: Path) -> Iterator[_PackFiles]:
    if path.is_dir():
        yield _FolderFiles(path)
    elif path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path, "r:*") as archive:
            yield _TarFiles(archive)
    else:
        raise PackFileMissing(f"{path}: neither a trace-pack folder nor a .tar/.tar.gz archive")


def _read_json(files: _PackFiles, name: str) -> Any:
    """``name`` or ``name.gz``, gunzipped when the bytes are gzip, parsed as JSON."""
    for candidate in (name, name + ".gz"):
        raw = files.read(candidate)
        if raw is None:
            continue
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TracePackError(f"{candidate}: not JSON ({exc})") from exc
    raise PackFileMissing(f"{name}: missing from the pack")


def _address(value: object, where: str) -> str:
    text = str(value).lower() if isinstance(value, str) else ""
    if not _ADDRESS.fullmatch(text):
        raise PackAccessInvalid(f"{where}: address {value!r} is not 0x and 40 hex digits")
    return text


def _slot(value: object, where: str) -> str:
    """A slot as 0x and 64 lower-case hex digits (shorter hex is left-padded)."""
    text = str(value).lower() if isinstance(value, str) else ""
    if not _SLOT.fullmatch(text):
        raise PackAccessInvalid(f"{where}: slot {value!r} is not 0x and at most 64 hex digits")
    return "0x" + text[2:].rjust(64, "0")


def _transaction(raw: dict[str, Any], where: str) -> TxAccesses:
    reads: set[Key] = set()
    writes: set[Key] = set()
    seen: set[tuple[object, ...]] = set()
    for position, access in enumerate(raw.get("accesses") or ()):
        at = f"{where} access {position}"
        address = _address(access.get("address"), at)
        slot_value = access.get("slot")
        slot = None if slot_value is None else _slot(slot_value, at)
        kind = access.get("kind")
        observation = (
            address,
            slot,
            kind,
            access.get("op"),
            access.get("pc"),
            access.get("depth"),
            access.get("gas_remaining"),
        )
        if observation in seen:
            continue
        seen.add(observation)
        key: Key = (address, slot)
        if kind in READ_KINDS:
            reads.add(key)
        elif kind in WRITE_KINDS:
            writes.add(key)
        elif kind in BOTH_KINDS:
            reads.add(key)
            writes.add(key)
        else:
            raise PackAccessInvalid(f"{at}: unknown kind {kind!r}")
    gas_used = raw.get("gas_used")
    if gas_used is not None and (not isinstance(gas_used, int) or gas_used < 0):
        raise PackBlockInvalid(f"{where}: gas_used {gas_used!r} is not a non-negative integer")
    return TxAccesses(
        tx_index=int(raw["tx_index"]),
        tx_hash=str(raw.get("tx_hash") or ""),
        gas_used=gas_used,
        reads=frozenset(reads),
        writes=frozenset(writes),
        access_count=len(seen),
    )


def parse_block(raw: dict[str, Any], number: int, where: str) -> BlockAccesses:
    """One block file's content; ``number`` is the block the manifest expects under this name."""
    if raw.get("block_number", number) != number:
        raise PackBlockInvalid(f"{where}: block_number {raw.get('block_number')} where {number} is expected")
    transactions = sorted(
        (_transaction(tx, f"{where} tx {tx.get('tx_index')}") for tx in raw.get("transactions") or ()),
        key=lambda tx: tx.tx_index,
    )
    indices = [tx.tx_index for tx in transactions]
    if len(set(indices)) != len(indices):
        raise PackBlockInvalid(f"{where}: duplicate tx_index")
    total = raw.get("total_gas_used")
    gas = [tx.gas_used for tx in transactions if tx.gas_used is not None]
    if total is not None and len(gas) == len(transactions) and total != sum(gas):
        raise PackBlockInvalid(
            f"{where}: total_gas_used {total} is not the sum of its transactions' gas_used {sum(gas)}"
        )
    source_count = raw.get("source_tx_count")
    return BlockAccesses(number, tuple(transactions), None if source_count is None else int(source_count))


def read_trace_pack(path: Path, on_block: Callable[[int, int], None] | None = None) -> AccessSource:
    """The pack at ``path`` (folder, ``.tar`` or ``.tar.gz``) as an :class:`AccessSource`.

    ``on_block(done, total)`` is called after each block file, for a progress bar.
    """
    where = f"{path}/manifest.json"
    with _open_pack(path) as files:
        manifest = _read_json(files, "manifest.json")
        try:
            start, end = int(manifest["start_block"]), int(manifest["end_block"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PackManifestInvalid(f"{where}: start_block and end_block are required") from exc
        version = manifest.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise PackManifestInvalid(f"{where}: schema_version {version!r}, not {SCHEMA_VERSION}")
        if start > end:
            raise PackManifestInvalid(f"{where}: start_block {start} > end_block {end}")
        blocks = []
        warnings = [str(text) for text in manifest.get("warnings") or ()]
        tx_warnings: Counter[str] = Counter()
        for number in range(start, end + 1):
            name = f"blocks/{number}.json"
            raw = _read_json(files, name)
            blocks.append(parse_block(raw, number, name))
            warnings.extend(f"block {number}: {text}" for text in raw.get("warnings") or ())
            tx_warnings.update(
                str(text) for tx in raw.get("transactions") or () for text in tx.get("warnings") or ()
            )
            if on_block is not None:
                on_block(number - start + 1, end - start + 1)
    warnings.extend(f"{count} transactions: {text}" for text, count in sorted(tx_warnings.items()))
    return AccessSource(
        chain=str(manifest.get("chain", "")),
        start_block=start,
        end_block=end,
        blocks=tuple(blocks),
        provenance=str(manifest.get("provenance", "")),
        warnings=tuple(warnings),
    )
