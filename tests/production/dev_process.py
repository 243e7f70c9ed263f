"""A ``balrex dev`` process as a user starts it, on free ports, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from engine_harness import BALREX, free_port

START_SECONDS = 120


class DevChain:
    def __init__(self, root: Path, slot_seconds: float = 1.0) -> None:
        self.datadir = root / "dev"
        self.log_path = root / "dev.log"
        self.http_port = free_port()
        self.rpc_url = f"http://127.0.0.1:{self.http_port}"
        self.command = [str(BALREX), "dev", "--datadir", str(self.datadir), "--slot-time", str(slot_seconds)]
        self.command += ["--authrpc.port", str(free_port()), "--http.port", str(self.http_port)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start it and wait for its producer; the banner it printed."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while "dev block producer" not in self.log():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.5)
        return self.log()

    def stop(self) -> None:
        """Ctrl-C, as a user stops it: it must exit cleanly (0)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(30) == 0, self.log()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rpc(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = httpx.post(self.rpc_url, json=body, timeout=60).json()
        assert "error" not in answer, answer
        return answer["result"]
