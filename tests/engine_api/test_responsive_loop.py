"""The event loop keeps answering while a heavy block imports (Engine API timeouts: 1 s for capabilities).

Three bench-chain blocks of many transactions (each near a second of import
on this machine kind) go to a real node back to back; meanwhile ``eth_blockNumber`` and
``engine_exchangeCapabilities`` are asked again and again. Their 99th
percentile latency must stay under 100 ms (the block's work runs in worker
threads and processes, not in the loop); the measured percentiles are printed.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_harness import Node, Payload

from bal import encode_bal
from client.tools.bench_chain import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain

# A real node process; serial: the latency limit is measured with the machine to itself (make test
# runs these after the parallel run, not beside other tests' processes).
pytestmark = [pytest.mark.integration, pytest.mark.serial]

TXS = 1200
# Three blocks, not one: a faster CI host imported one block in under half a second, too short a
# window to measure a 99th percentile against.
BLOCKS = 3
P99_LIMIT_S = 0.100


@pytest.fixture(scope="module")
def heavy_chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heavy") / "chain"
    settings = ChainSettings(fork="amsterdam", blocks=BLOCKS, txs_per_block=TXS, seed=3, accounts=2000)
    generate_chain(settings, out)
    return out


def test_reads_answer_within_100_ms_at_p99_while_heavy_blocks_import(
    heavy_chain: Path, start_node: Callable[..., Node]
) -> None:
    chain = load_chain(heavy_chain)
    node = start_node(chain.genesis)
    assert len(chain.blocks) == BLOCKS
    requests = []
    for block_rlp, bal in zip(chain.blocks, chain.bals, strict=True):
        assert bal is not None
        requests.append(Payload("0x" + block_rlp.hex(), "0x" + encode_bal(bal).hex()).new_payload())
    statuses: list[str] = []

    def import_heavy_blocks() -> None:
        for method, params in requests:
            statuses.append(node.rpc(method, *params)["status"])

    importer = threading.Thread(target=import_heavy_blocks)
    latencies: list[float] = []
    started = time.monotonic()
    importer.start()
    while importer.is_alive():
        for ask in (("eth_blockNumber",), ("engine_exchangeCapabilities", [])):
            sent = time.monotonic()
            node.rpc(ask[0], *ask[1:])
            latencies.append(time.monotonic() - sent)
    importer.join()
    import_seconds = time.monotonic() - started
    assert statuses == ["VALID"] * BLOCKS
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"import {import_seconds:.2f} s, {len(latencies)} reads: "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    assert import_seconds > 0.5, "the blocks must be heavy enough to measure against"
    assert p99 < P99_LIMIT_S, f"p99 {p99 * 1000:.1f} ms while the blocks imported"
