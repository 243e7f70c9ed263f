"""A process that dies without closing its RocksStore reopens at exactly its last committed block."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from storage_testkit import block_hash, dump, expected_dump

import storage
from storage import Chain, RocksStore, Space

# The subprocess imports the very ``storage`` package this process imported (normally /work/main's).
REPO = Path(storage.__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.integration  # real processes: crash subprocesses

K = 5

# Commits blocks 1..K, stages (but never commits) block K + 1, then dies without close().
_COMMIT_THEN_DIE = """
import os, signal, sys
from storage import RocksStore, WriteBatch
from storage_testkit import commit_blocks, stage_block
path, k, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = RocksStore(path)
commit_blocks(store, k)
stage_block(WriteBatch(), k + 1)
print("committed", k, flush=True)
if how == "exit":
    os._exit(1)
os.kill(os.getpid(), signal.SIGKILL)
"""

# Commits blocks forever (up to a cap), acknowledging each one after commit() returns.
_COMMIT_FOREVER = """
import sys
from storage import RocksStore
from storage_testkit import commit_block
store = RocksStore(sys.argv[1])
for n in range(1, int(sys.argv[2]) + 1):
    commit_block(store, n)
    print(n, flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE)])
    return env


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_reopen_after_the_process_died(tmp_path: Path, how: str) -> None:
    path = tmp_path / "db"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_COMMIT_THEN_DIE), str(path), str(K), how],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == f"committed {K}", proc.stderr
    expected_rc = 1 if how == "exit" else -signal.SIGKILL
    assert proc.returncode == expected_rc, proc.stderr

    with RocksStore(path) as store:
        assert Chain(store).head_hash() == block_hash(K)
        assert dump(store) == expected_dump(K)


def test_killed_mid_stream_reopens_at_a_whole_block(tmp_path: Path) -> None:
    """SIGKILL from outside at an arbitrary moment: the head names a block whose every write is there."""
    path = tmp_path / "db"
    cap = 3000
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_COMMIT_FOREVER), str(path), str(cap)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acknowledged = 0
    try:
        for line in proc.stdout:
            acknowledged = int(line)
            if acknowledged >= 40:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        proc.stderr.close()
    assert acknowledged >= 40, stderr

    with RocksStore(path) as store:
        chain = Chain(store)
        head = chain.head_hash()
        numbers = [int.from_bytes(k, "big") for k, _ in store.iterate(Space.CANONICAL)]
        assert numbers == list(range(1, len(numbers) + 1))
        m = numbers[-1]
        # every acknowledged commit survived, and the head is the last block on disk
        assert acknowledged <= m <= cap
        assert head == block_hash(m)
        # ...and the state is exactly that of block m: no half-written block
        assert dump(store) == expected_dump(m)
