"""Benchmark: the dossier of one 436-transaction block with 27,000 accesses (target: under 2 s).

Run from the repository root: ``.venv/bin/python tests/tools/dossier/bench_large_block.py``.
It times reading the pack and building the dossier (workers 1,2,4,8,16, three
strategies) separately, then rendering every report, and prints the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack_builder import synthetic_block, write_pack  # noqa: E402

from client.tools.dossier.dossier import build_dossier  # noqa: E402
from client.tools.dossier.report_html import render_html  # noqa: E402
from client.tools.dossier.report_markdown import render_markdown  # noqa: E402
from client.tools.dossier.report_trace import trace_events  # noqa: E402
from client.tools.dossier.trace_pack import read_trace_pack  # noqa: E402

TX_COUNT = 436
ACCESS_COUNT = 27_000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        pack = write_pack(Path(folder) / "pack", {1: synthetic_block(TX_COUNT, ACCESS_COUNT)})
        started = time.perf_counter()
        source = read_trace_pack(pack)
        read_done = time.perf_counter()
        dossier = build_dossier(source)
        built = time.perf_counter()
        render_html(dossier), render_markdown(dossier), trace_events(dossier, 16)
        rendered = time.perf_counter()
    fields = dossier.fields
    print(
        f"{fields['tx_count']} txs, {fields['total_accesses']} accesses, "
        f"{fields['conflict_pair_count']} conflict pairs, {fields['wave_count']} waves\n"
        f"read {read_done - started:.3f} s, analysis {built - read_done:.3f} s, "
        f"total {built - started:.3f} s; reports {rendered - built:.3f} s"
    )


if __name__ == "__main__":
    main()
