"""``client.tools.payloads`` (``balrex payloads``): blocks as a consensus client sends them.

The payloads are checked against the node's own payload -> block code
(``engine_api.payload.build_block``): the block it rebuilds from a payload
must be the fixture's block byte for byte, so the tool and the node can only
agree by both being right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixture_files import first_test
from typer.testing import CliRunner

from bal import bal_from_json, bal_to_engine_hex
from client.chain_config import Fork, config_from_fixture
from client.cli import app
from client.forks import FORK_VMS
from client.tools.payloads import (
    PayloadSourceError,
    build_payload,
    engine_requests,
    fixture_block_payload,
    fixture_blocks,
    source_blocks,
    write_requests,
)
from engine_api.models import ExecutionPayloadV3, ExecutionPayloadV4
from engine_api.payload import build_block

AMSTERDAM = (
    "for_amsterdam.tar.gz",
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists/"
    "bal_2930_account_listed_but_untouched.json",
)
PRAGUE = (
    "for_prague.tar.gz",
    "for_prague/prague/eip7702_set_code_tx/set_code_txs_2/gas_diff_pointer_vs_direct_call.json",
)
CANCUN_BLOBS = (
    "for_cancun.tar.gz",
    "for_cancun/cancun/eip4844_blobs/blobhash_opcode/blobhash_multiple_txs_in_block.json",
)
TRANSITION = (
    "for_transitions.tar.gz",
    "for_cancuntopragueattime15k/berlin/eip2929_gas_cost_increases/precompile_warming/precompile_warming.json",
)
REQUESTS_7002 = (
    "for_amsterdam.tar.gz",
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists_eip7002/"
    "bal_7002_request_from_contract.json",
)
INVALID_BAL = (
    "for_amsterdam.tar.gz",
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists_invalid/"
    "bal_invalid_extraneous_coinbase.json",
)


def _rebuilt_by_the_node(test: dict[str, Any], position: int) -> bytes:
    """The block the node's payload code builds from the tool's newPayload params."""
    config = config_from_fixture(test["network"], test["config"])
    engine = fixture_block_payload(config, test["blocks"][position])
    _, params = engine.new_payload()
    model = ExecutionPayloadV4 if engine.fork == Fork.AMSTERDAM else ExecutionPayloadV3
    payload = model.model_validate(params[0])
    requests = [bytes.fromhex(r[2:]) for r in params[3]] if len(params) > 3 else None
    block_class = FORK_VMS[engine.fork].get_block_class()
    built = build_block(payload, block_class, bytes.fromhex(params[2][2:]), requests)
    assert built.block_hash == engine.block_hash
    return built.rlp


@pytest.mark.parametrize("source", [AMSTERDAM, PRAGUE, CANCUN_BLOBS], ids=["amsterdam", "prague", "cancun"])
def test_the_node_rebuilds_the_fixture_block_from_the_payload(source: tuple[str, str]) -> None:
    test = first_test(*source)
    for position, block in enumerate(test["blocks"]):
        assert _rebuilt_by_the_node(test, position).hex() == block["rlp"][2:]


def test_each_fork_gets_its_method_version_and_params() -> None:
    amsterdam = first_test(*AMSTERDAM)
    config = config_from_fixture(amsterdam["network"], amsterdam["config"])
    block = amsterdam["blocks"][0]
    engine = fixture_block_payload(config, block)
    method, params = engine.new_payload()
    assert method == "engine_newPayloadV5"
    assert params[0]["blockAccessList"] == bal_to_engine_hex(bal_from_json(block["blockAccessList"]))
    assert int(params[0]["slotNumber"], 16) == int(block["blockHeader"]["slotNumber"], 16)
    assert params[3] == []
    assert engine.forkchoice()[0] == "engine_forkchoiceUpdatedV4"
    assert engine.hash_hex == block["blockHeader"]["hash"]

    prague = first_test(*PRAGUE)
    config = config_from_fixture(prague["network"], prague["config"])
    method, params = fixture_block_payload(config, prague["blocks"][0]).new_payload()
    assert (method, len(params), "blockAccessList" in params[0]) == ("engine_newPayloadV4", 4, False)

    cancun = first_test(*CANCUN_BLOBS)
    config = config_from_fixture(cancun["network"], cancun["config"])
    engine = fixture_block_payload(config, cancun["blocks"][0])
    method, params = engine.new_payload()
    assert (method, len(params)) == ("engine_newPayloadV3", 3)
    blob_hashes = [h for tx in cancun["blocks"][0]["transactions"] for h in tx.get("blobVersionedHashes", [])]
    assert blob_hashes and params[1] == blob_hashes
    assert engine.forkchoice()[0] == "engine_forkchoiceUpdatedV3"


def test_a_transition_network_switches_version_at_the_fork_time() -> None:
    test = first_test(*TRANSITION)
    methods = [block.payload.new_payload()[0] for block in fixture_blocks("t", test)]
    expected = [
        "engine_newPayloadV3" if int(b["blockHeader"]["timestamp"], 16) < 15_000 else "engine_newPayloadV4"
        for b in test["blocks"]
    ]
    assert methods == expected
    assert set(methods) == {"engine_newPayloadV3", "engine_newPayloadV4"}


def test_a_block_committing_to_requests_not_given_is_marked() -> None:
    test = first_test(*REQUESTS_7002)
    config = config_from_fixture(test["network"], test["config"])
    assert not fixture_block_payload(config, test["blocks"][0]).requests_match
    assert fixture_block_payload(config, first_test(*AMSTERDAM)["blocks"][0]).requests_match


def test_an_amsterdam_block_needs_its_own_bal() -> None:
    block = first_test(*AMSTERDAM)["blocks"][0]
    block_rlp = bytes.fromhex(block["rlp"][2:])
    with pytest.raises(PayloadSourceError, match="its BAL is needed"):
        build_payload(block_rlp, Fork.AMSTERDAM)
    with pytest.raises(PayloadSourceError, match="does not hash to the header"):
        build_payload(block_rlp, Fork.AMSTERDAM, bytes.fromhex("c0"))
    # unchecked, the BAL is sent as given (a block meant to be refused)
    sent = build_payload(block_rlp, Fork.AMSTERDAM, bytes.fromhex("c0"), check_bal_hash=False)
    assert sent.payload["blockAccessList"] == "0xc0"


def test_requests_file_makes_valid_blocks_the_head_and_leaves_invalid_ones(tmp_path: Path) -> None:
    """An invalid fixture block gets its newPayload but no forkchoiceUpdated; ids count up from 1."""
    source = first_test(*INVALID_BAL)
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"only": source}))
    blocks = list(source_blocks(fixture))
    requests = list(engine_requests(blocks))
    expected_methods = []
    for block in source["blocks"]:
        expected_methods.append("engine_newPayloadV5")
        if "expectException" not in block:
            expected_methods.append("engine_forkchoiceUpdatedV4")
    assert any("expectException" in b for b in source["blocks"])
    assert [r["method"] for r in requests] == expected_methods
    assert [r["id"] for r in requests] == list(range(1, len(requests) + 1))

    as_array, as_lines = tmp_path / "out.json", tmp_path / "out.jsonl"
    assert write_requests(requests, as_array, jsonl=False) == len(requests)
    write_requests(requests, as_lines, jsonl=True)
    assert json.loads(as_array.read_text()) == requests
    assert [json.loads(line) for line in as_lines.read_text().splitlines()] == requests


def test_cli_writes_jsonl_and_refuses_what_is_not_a_chain(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"a": first_test(*PRAGUE)}))
    out = tmp_path / "requests.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["payloads", str(fixture), "--out", str(out), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["method"] == "engine_newPayloadV4" and lines[1]["method"] == "engine_forkchoiceUpdatedV3"

    not_a_chain = tmp_path / "other.json"
    not_a_chain.write_text('{"x": {"no": "blocks"}}')
    result = runner.invoke(app, ["payloads", str(not_a_chain), "--out", str(out)])
    assert result.exit_code == 1 and "not an EF blockchain_test fixture" in result.output


@pytest.mark.parametrize("option", ["--authrpc.jwtsecret", "--jwt-secret"])
def test_send_reads_the_secret_named_as_the_node_names_it_or_by_the_older_name(
    tmp_path: Path, option: str
) -> None:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"a": first_test(*PRAGUE)}))
    secret = tmp_path / "not-a-secret.hex"
    secret.write_text("zz")
    result = CliRunner().invoke(
        app, ["payloads", str(fixture), "--send", "http://127.0.0.1:9", option, str(secret)]
    )
    assert result.exit_code == 1 and f"JWT secret {secret} is not hex" in result.output


@pytest.mark.parametrize(
    "archive",
    ["for_cancun", "for_osaka"],  # EIP-4844's network form, and EIP-7594's with its wrapper version
)
def test_a_blob_transaction_in_network_form_is_sent_with_the_hashes_it_wraps(archive: str) -> None:
    """The block is invalid (blobs in a block), but a consensus client would send it: the node refuses it."""
    test = first_test(
        f"{archive}.tar.gz",
        f"{archive}/cancun/eip4844_blobs/blob_txs_full/reject_valid_full_blob_in_block_rlp.json",
    )
    block = test["blocks"][0]
    assert "expectException" in block
    payload = fixture_block_payload(config_from_fixture(test["network"], test["config"]), block)
    assert payload.versioned_hashes, "the wrapped transaction's blob hashes"
    assert all(h[0] == 1 for h in payload.versioned_hashes)  # KZG version byte
