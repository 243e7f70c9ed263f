"""ef-tests/fixture_files.py: the archive cache and test selection."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from fixture_files import collect_cases, unpack_archive


def make_archive(path: Path, files: dict[str, object]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpack_once_then_reuse_then_redo_when_the_archive_changes(tmp_path: Path) -> None:
    archive = tmp_path / "for_x.tar.gz"
    make_archive(archive, {"t/a.json": {"case1": {}}})
    cache = tmp_path / "cache"
    target = unpack_archive(archive, cache)
    assert (target / "t" / "a.json").is_file()
    marker = target / "t" / "marker"
    marker.write_text("kept")
    assert unpack_archive(archive, cache) == target
    assert marker.exists(), "an up-to-date cache was unpacked again"
    make_archive(archive, {"t/b.json": {"case2": {}}})
    unpack_archive(archive, cache)
    assert not marker.exists() and not (target / "t" / "a.json").exists()
    assert (target / "t" / "b.json").is_file()


def test_an_interrupted_unpack_is_not_trusted(tmp_path: Path) -> None:
    archive = tmp_path / "for_y.tar.gz"
    make_archive(archive, {"a.json": {"case": {}}})
    cache = tmp_path / "cache"
    (cache / "for_y").mkdir(parents=True)  # a folder without the completion stamp
    (cache / "for_y" / "junk.json").write_text("{}")
    target = unpack_archive(archive, cache)
    assert not (target / "junk.json").exists()
    assert (target / "a.json").is_file()


def test_selection_by_fragment_and_every_nth_file(tmp_path: Path) -> None:
    for i in range(6):
        folder = tmp_path / ("keep" if i % 2 else "drop")
        folder.mkdir(exist_ok=True)
        names = {f"mod::test[case{i}a]": {}, f"mod::test[case{i}b]": {}}
        (folder / f"f{i}.json").write_text(json.dumps(names))
    everything = collect_cases(tmp_path)
    assert len(everything) == 12
    kept = collect_cases(tmp_path, only=["keep"])
    assert {c.path.parent.name for c in kept} == {"keep"} and len(kept) == 6
    thinned = collect_cases(tmp_path, only=["keep"], every=2)
    assert [c.path.name for c in thinned][::2] == ["f1.json", "f5.json"]
    assert thinned[0].short_id == "keep/f1[case1a]"


def test_group_of_puts_each_files_tests_of_a_group_together_in_first_seen_order(tmp_path: Path) -> None:
    tests = {
        "t[a1]": {"g": "a"},
        "t[b1]": {"g": "b"},
        "t[a2]": {"g": "a"},
        "t[c1]": {"g": "c"},
        "t[b2]": {"g": "b"},
    }
    (tmp_path / "f.json").write_text(json.dumps(tests))
    natural = [c.name for c in collect_cases(tmp_path)]
    assert natural == list(tests)
    grouped = [c.name for c in collect_cases(tmp_path, group_of=lambda test: test["g"])]
    assert grouped == ["t[a1]", "t[a2]", "t[b1]", "t[b2]", "t[c1]"]
