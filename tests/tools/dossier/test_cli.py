"""``balrex dossier trace-pack`` through the real CLI app, with every output file."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

from pack_builder import access, transaction, write_pack
from typer.testing import CliRunner

from client.cli import app

X = 0x11


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["dossier", "trace-pack", *args])


def pack(tmp_path: Path) -> Path:
    return write_pack(
        tmp_path / "pack",
        {
            3: [
                transaction(0, [access(X, 1, "write")], gas=10),
                transaction(1, [access(X, 2, "write")], gas=12),
                transaction(2, [access(X, 3, "write")], gas=11),
                transaction(3, [access(X, 1, "read")], gas=20),
            ],
            4: [transaction(0, [access(X, 1, "read_write")], gas=5)],
        },
    )


def test_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        str(pack(tmp_path)),
        "--workers",
        "1,2",
        "--json",
        str(out / "d.json"),
        "--markdown",
        str(out / "d.md"),
        "--html",
        str(out / "d.html"),
        "--trace",
        str(out / "d.trace.json"),
    )
    assert result.exit_code == 0, result.output
    assert "5 txs" in result.output

    fields = json.loads((out / "d.json").read_text())
    assert (fields["tx_count"], fields["conflict_pair_count"], fields["workers"]) == (5, 1, [1, 2])
    assert [row["makespan"] for row in fields["worker_simulation"]] == [58, 32 + 5]

    markdown = (out / "d.md").read_text()
    for heading in (
        "## Summary",
        "## Worker simulation",
        "## Scheduler ablation",
        "## Worst serializing",
        "## Hot contracts",
        "## Hot storage slots",
    ):
        assert heading in markdown
    assert "| critical_path | 2 | 35 |" in markdown

    html = (out / "d.html").read_text()
    assert html.count("<svg") == 3  # two blocks' waves and the speedup chart
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # self-contained
    assert "<script" not in html

    trace = json.loads((out / "d.trace.json").read_text())
    spans = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    assert len(spans) == 3 * 5  # every transaction once per strategy
    for pid in (1, 2, 3):
        by_worker: dict[int, list[tuple[int, int]]] = {}
        for event in (e for e in spans if e["pid"] == pid):
            by_worker.setdefault(event["tid"], []).append((event["ts"], event["ts"] + event["dur"]))
        assert len(by_worker) <= 2
        for intervals in by_worker.values():
            intervals.sort()
            assert all(end <= start for (_, end), (start, _) in pairwise(intervals))  # one tx at a time
        block_3 = {e["args"]["tx_index"]: e for e in spans if e["pid"] == pid and e["args"]["block"] == 3}
        assert block_3[3]["ts"] >= block_3[0]["ts"] + block_3[0]["dur"]  # tx 3 waits for tx 0


def test_bad_workers_and_trace_workers(tmp_path: Path) -> None:
    source = str(pack(tmp_path))
    assert run(source, "--workers", "0,2").exit_code != 0
    assert run(source, "--workers", "two").exit_code != 0
    result = run(source, "--workers", "1,2", "--trace-workers", "4")
    assert result.exit_code == 1
    assert "--trace-workers 4" in result.output


def test_broken_pack_is_one_line_error(tmp_path: Path) -> None:
    root = pack(tmp_path)
    (root / "blocks" / "4.json").unlink()
    result = run(str(root))
    assert result.exit_code == 1
    assert "blocks/4.json" in result.output
    assert "Traceback" not in result.output
