"""``balrex node`` as a process: data dir and JWT secret, restarts, Ctrl-C, SIGKILL mid-import."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from engine_harness import BALREX, Node, Payload, RpcFailure, genesis_from_fixture, load_fixture
from rocksdict import Options, Rdict

from client.dev_genesis import DEV_ACCOUNTS, DEV_BALANCE, dev_genesis
from pipeline.cores import available_cores, plan_cores

pytestmark = pytest.mark.integration  # real processes: node subprocesses

TEN_BLOCKS = (
    "for_cancun.tar.gz",
    "for_cancun/cancun/eip4788_beacon_root/beacon_root_contract/multi_block_beacon_root_timestamp_calls.json",
)


def import_and_choose(node: Node, payload: Payload) -> None:
    method, params = payload.new_payload()
    assert node.rpc(method, *params)["status"] == "VALID"
    assert node.forkchoice(payload.hash_hex)["payloadStatus"]["status"] == "VALID"


def test_default_dev_genesis_node(start_node: Any) -> None:
    node = start_node(None)
    assert node.rpc("eth_chainId") == hex(1337)
    secret_file = node.datadir / "jwt.hex"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(node.secret) == 32
    assert f"path={secret_file.resolve()}" in node.log()
    genesis = node.head()
    assert genesis["number"] == "0x0"
    assert genesis["baseFeePerGas"] == hex(10**9)
    assert genesis["requestsHash"] == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert genesis["extraData"] == dev_genesis()["extraData"]
    assert len(DEV_ACCOUNTS) >= 3 and DEV_BALANCE > 0
    capabilities = node.rpc("engine_exchangeCapabilities", ["engine_newPayloadV4", "engine_getPayloadV4"])
    assert {"engine_newPayloadV3", "engine_newPayloadV4", "engine_forkchoiceUpdatedV3"} <= set(capabilities)
    assert {"engine_getPayloadV4", "engine_getBlobsV1"} <= set(capabilities)  # it builds payloads
    consensus = {"code": "LH", "name": "Lighthouse", "version": "v8.0.0", "commit": "0xfa4ff922"}
    (version,) = node.rpc("engine_getClientVersionV1", consensus)
    assert version["name"] == "balrex" and version["code"] == "BX"
    # Ctrl-C: clean exit, store closed; a restart reuses the data dir and the secret.
    secret = node.secret
    workers = node.children()
    assert workers, "the node starts its merkleizer workers"
    # The node's process and its later-part worker run on a core each; the merkleizer on the rest.
    plan = plan_cores(available_cores())
    assert plan is not None  # the suite runs on at least two cores
    assert node.process is not None
    assert frozenset(os.sched_getaffinity(node.process.pid)) == plan.node
    assert {frozenset(os.sched_getaffinity(pid)) for pid in workers} == {plan.later_part, plan.merkle}
    assert node.stop() == 0
    assert "stopped; store closed, worker processes stopped" in node.log()
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "a worker outlived the node"
    node.start()
    assert node.secret == secret
    assert node.head() == genesis
    assert "jwt secret loaded" in node.log()


def test_prague_payload_on_a_cancun_node_is_unsupported_fork(start_node: Any) -> None:
    test = load_fixture(*TEN_BLOCKS)
    node = start_node(genesis_from_fixture(test))
    # only Amsterdam blocks take the BAL path: a Cancun chain starts no worker process
    assert not node.children()
    assert "no worker processes: the chain schedules no fork with block access lists" in node.log()
    method, params = Payload(test["blocks"][0]["rlp"]).new_payload()
    assert method == "engine_newPayloadV3"
    try:
        node.rpc("engine_newPayloadV4", *params, [])
    except RpcFailure as exc:
        assert exc.code == -38005
    else:
        raise AssertionError("V4 for a Cancun timestamp must fail")


def test_restart_with_another_genesis_is_refused(start_node: Any, tmp_path: Path) -> None:
    test = load_fixture(*TEN_BLOCKS)
    node = start_node(genesis_from_fixture(test))
    assert node.stop() == 0
    other = dev_genesis()
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(other))
    result = subprocess.run(
        [
            str(BALREX),
            "node",
            "--datadir",
            str(node.datadir),
            "--authrpc.port",
            "0",
            "--genesis",
            str(other_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "holds a chain with genesis" in result.stderr


def test_a_data_dir_of_an_older_layout_is_refused_untouched(tmp_path: Path) -> None:
    chaindata = tmp_path / "datadir" / "chaindata"
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    Rdict(str(chaindata), options).close()  # one column family, as balrex wrote before the second one
    result = subprocess.run(
        [str(BALREX), "node", "--datadir", str(chaindata.parent), "--authrpc.port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "written by an older balrex" in result.stderr and "Traceback" not in result.stderr
    assert Rdict.list_cf(str(chaindata)) == ["default"]


def test_jwt_secret_file_option_and_bad_secret(start_node: Any, tmp_path: Path) -> None:
    secret_path = tmp_path / "given.hex"
    secret_path.write_text("0x" + "42" * 32)
    node = start_node(None, extra_args=("--authrpc.jwtsecret", str(secret_path)))
    assert node.post(
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, headers=node.headers(b"\x42" * 32)
    ).json()["result"] == hex(1337)
    assert not (node.datadir / "jwt.hex").exists()
    bad = tmp_path / "bad.hex"
    bad.write_text("0x1234")
    result = subprocess.run(
        [str(BALREX), "node", "--datadir", str(tmp_path / "x"), "--authrpc.jwtsecret", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "not 32" in result.stderr


def test_sigkill_during_payloads_then_restart_continues(start_node: Any) -> None:
    test = load_fixture(*TEN_BLOCKS)
    payloads = [Payload(block["rlp"]) for block in test["blocks"]]
    node = start_node(genesis_from_fixture(test))
    for payload in payloads[:3]:
        import_and_choose(node, payload)
    chosen: list[int] = []  # numbers whose forkchoiceUpdated was answered VALID before the kill

    def feed() -> None:
        try:
            for payload in payloads[3:]:
                import_and_choose(node, payload)
                chosen.append(payload.number)
        except Exception:  # the kill cuts a request short
            pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    deadline = time.monotonic() + 30
    while len(chosen) < 2 and time.monotonic() < deadline:  # kill in the middle of the sequence
        time.sleep(0.001)
    node.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    node.process.wait(10)  # type: ignore[union-attr]
    feeder.join(30)
    assert not feeder.is_alive()
    assert 2 <= len(chosen) < len(payloads) - 3, "the kill must land inside the sequence"
    node.start()
    head = node.head()
    number = int(head["number"], 16)
    # the head is a fully stored fixture block, at least the last one confirmed before the kill
    assert number >= max(chosen, default=3)
    assert head["hash"] == payloads[number - 1].hash_hex
    for n in range(1, number + 1):
        block = node.rpc("eth_getBlockByNumber", hex(n), False)
        assert block["hash"] == payloads[n - 1].hash_hex
        assert block["stateRoot"] == test["blocks"][n - 1]["blockHeader"]["stateRoot"]
    for payload in payloads[number:]:
        import_and_choose(node, payload)
    assert node.head()["hash"] == test["lastblockhash"]
    assert os.path.isdir(node.datadir / "chaindata")
