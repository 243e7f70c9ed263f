"""Finding EF blockchain fixtures: a directory, one JSON file, or a release archive.

Archives (``../shared/fixtures/bal-v5.7.0-alpha/for_*.tar.gz``) are unpacked
once into ``ef-tests/vectors/<archive name>/``, an ignored cache; a stamp file
holding the archive's SHA-256 says the cache is complete and current, so a
half-finished unpack (an interrupted run) is redone rather than trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent / "vectors"
_STAMP = ".unpacked-sha256"

# The one place that names where the shared data sits: ``../shared`` beside the repository.
# EF_FIXTURES_DIR points the release's archives elsewhere (the Makefile's FIXTURES).
_SHARED = Path(__file__).resolve().parents[2] / "shared"
RELEASE_DIR = Path(os.environ.get("EF_FIXTURES_DIR") or _SHARED / "fixtures" / "bal-v5.7.0-alpha")
TRACE_PACKS_DIR = _SHARED / "trace-packs"


def release_archive(name: str) -> Path:
    """The release archive ``name`` (``for_amsterdam.tar.gz`` ...); a missing one is an error, not a skip."""
    path = RELEASE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"fixture archive missing: {path} (../shared must sit beside the repository)")
    return path


def first_test(archive: str, relative: str) -> dict[str, Any]:
    """The first test of one fixture file of a release archive (unpacked once into the cache)."""
    root = unpack_archive(release_archive(archive)) / "blockchain_tests"
    return next(iter(json.loads((root / relative).read_text()).values()))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack_archive(archive: Path, cache: Path = VECTORS) -> Path:
    """Unpack ``archive`` into the cache unless an identical unpack is there."""
    target = cache / archive.name.removesuffix(".tar.gz")
    stamp = target / _STAMP
    digest = _sha256(archive)
    if stamp.exists() and stamp.read_text().strip() == digest:
        return target
    if target.exists():
        shutil.rmtree(target)
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(partial, filter="data")
    (partial / _STAMP).write_text(digest + "\n")
    partial.rename(target)
    return target


def fixture_json_files(source: Path) -> tuple[Path, list[Path]]:
    """The folder the fixtures sit in, and every fixture JSON file under it, in a stable order."""
    if not source.exists():
        raise FileNotFoundError(f"no fixtures at {source}")
    if source.name.endswith(".tar.gz"):
        source = unpack_archive(source)
    if source.is_file():
        return source.parent, [source]
    return source, sorted(p for p in source.rglob("*.json") if p.is_file())


@dataclass(frozen=True)
class FixtureCase:
    """One test inside one fixture file; its JSON is read only when it runs."""

    path: Path
    name: str
    short_id: str

    def load(self) -> dict[str, Any]:
        return _load_file(self.path)[self.name]


@functools.lru_cache(maxsize=2)
def _load_file(path: Path) -> dict[str, Any]:
    # Tests of one file run one after the other, so a tiny cache means each
    # file is parsed once at run time.
    with path.open() as f:
        return json.load(f)


def select_files(
    source: Path, only: list[str] | None = None, every: int = 1, first: int | None = None
) -> tuple[Path, list[Path]]:
    """The fixture folder and the files a run takes: path fragments in ``only``, then every
    ``every``-th file, then the first ``first`` of those.

    The one selection rule of every tool that runs fixtures, so that the runner and the
    comparison with the execution specs (``specs_blockchain_tests.py``, which imports only
    this module) take the same files in the same order.
    """
    root, files = fixture_json_files(source)
    if only:
        files = [f for f in files if any(fragment in str(f) for fragment in only)]
    files = files[::every]
    if first is not None:
        files = files[:first]
    return root, files


def collect_cases(
    source: Path,
    only: list[str] | None = None,
    every: int = 1,
    first: int | None = None,
    group_of: Callable[[dict[str, Any]], str] | None = None,
) -> list[FixtureCase]:
    """The tests of every file ``select_files`` takes, in file order.

    ``group_of`` (a test's group) reorders each file's tests so that those of one
    group run one after the other, groups in the order of their first test: the
    ``engine`` pass's tests of one genesis then share a node.
    """
    root, files = select_files(source, only, every, first)
    cases = []
    for path in files:
        with path.open() as f:
            tests: dict[str, Any] = json.load(f)
        names = list(tests)
        if group_of is not None:
            first_of_group: dict[str, int] = {}
            groups = [first_of_group.setdefault(group_of(tests[n]), i) for i, n in enumerate(names)]
            names = [name for _, name in sorted(zip(groups, names, strict=True), key=lambda g: g[0])]
        rel = path.relative_to(root)
        for name in names:
            variant = name[name.find("[") :] if "[" in name else name
            cases.append(FixtureCase(path, name, f"{str(rel).removesuffix('.json')}{variant}"))
    return cases


if __name__ == "__main__":
    import sys

    for archive in sys.argv[1:]:
        print(f"{archive} -> {unpack_archive(Path(archive))}")
