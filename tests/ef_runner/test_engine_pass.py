"""The EF runner's ``engine`` pass: fixture blocks through a real ``balrex node`` over HTTP.

The release holds no ``blockchain_test_engine`` files, so the reader is tested
on one made here in that format (``engineNewPayloads`` with ``params``,
``newPayloadVersion``, ``forkchoiceUpdatedVersion``, ``validationError``,
``errorCode``) from a two-block Amsterdam test of the release (the fixture data
stays in ``../shared``; the file is written to the test's tmp dir): block 1;
block 2 by the wrong version (-38005); block 2 with another state root, rehashed
(INVALID); block 2.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from engine_pass import (
    SHARED_NODE,
    EnginePassError,
    blockchain_test_calls,
    engine_test_calls,
    fixture_genesis,
    node_group,
    run_engine_pass,
)
from fixture_files import first_test
from outcomes import Outcomes

from client.chain_config import config_from_fixture
from client.requests import requests_hash
from client.tools.payloads import build_payload, fixture_block_payload

TWO_BLOCKS = (
    "for_amsterdam.tar.gz",
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists_eip2935/bal_2935_query.json",
)
INVALID_BAL = (
    "for_amsterdam.tar.gz",
    "for_amsterdam/amsterdam/eip7928_block_level_access_lists/block_access_lists_invalid/"
    "bal_invalid_extraneous_coinbase.json",
)
TRANSITION = (
    "for_transitions.tar.gz",
    "for_cancuntopragueattime15k/berlin/eip2929_gas_cost_increases/precompile_warming/precompile_warming.json",
)
STATE_ROOT = 3


def hand_made_engine_test() -> dict[str, Any]:
    """A ``blockchain_test_engine`` test built from the release's two-block test (see the module doc)."""
    test = first_test(*TWO_BLOCKS)
    assert len(test["blocks"]) == 2 and not any("expectException" in b for b in test["blocks"])
    config = config_from_fixture(test["network"], test["config"])
    first, second = (fixture_block_payload(config, block) for block in test["blocks"])
    _, first_params = first.new_payload()
    _, second_params = second.new_payload()
    without_bal = {k: v for k, v in second_params[0].items() if k not in ("blockAccessList", "slotNumber")}
    items = rlp.decode(bytes.fromhex(test["blocks"][1]["rlp"][2:]))
    items[0][STATE_ROOT] = b"\x11" * 32
    bal_rlp = bytes.fromhex(second_params[0]["blockAccessList"][2:])
    _, wrong_root_params = build_payload(rlp.encode(items), second.fork, bal_rlp).new_payload()
    entries = [
        {"params": first_params, "newPayloadVersion": "5", "forkchoiceUpdatedVersion": "4"},
        {
            "params": [without_bal, *second_params[1:]],
            "newPayloadVersion": "4",
            "forkchoiceUpdatedVersion": "4",
            "errorCode": "-38005",
        },
        {
            "params": wrong_root_params,
            "newPayloadVersion": "5",
            "forkchoiceUpdatedVersion": "4",
            "validationError": "BlockException.INVALID_STATE_ROOT",
        },
        {"params": second_params, "newPayloadVersion": "5", "forkchoiceUpdatedVersion": "4"},
    ]
    keys = ("network", "genesisBlockHeader", "pre", "postState", "lastblockhash", "config")
    return {**{key: test[key] for key in keys}, "engineNewPayloads": entries}


def test_engine_file_reader_takes_versions_and_expectations_from_the_file() -> None:
    calls = engine_test_calls(hand_made_engine_test())
    assert [c.new_payload[0] for c in calls if c.new_payload] == [
        "engine_newPayloadV5",
        "engine_newPayloadV4",
        "engine_newPayloadV5",
        "engine_newPayloadV5",
    ]
    assert [c.expect_error_code for c in calls] == [None, -38005, None, None]
    assert [c.expect_invalid for c in calls] == [None, None, "BlockException.INVALID_STATE_ROOT", None]
    assert [c.forkchoice is not None for c in calls] == [True, False, False, True]
    assert calls[3].forkchoice is not None and calls[3].forkchoice[0] == "engine_forkchoiceUpdatedV4"


def test_engine_file_whose_version_disagrees_with_the_fork_table_is_refused() -> None:
    test = hand_made_engine_test()
    test["engineNewPayloads"][0]["newPayloadVersion"] = "4"
    with pytest.raises(EnginePassError, match="the fork table says V5"):
        engine_test_calls(test)


def test_genesis_of_a_transition_network_schedules_the_later_fork() -> None:
    config = fixture_genesis(first_test(*TRANSITION))["config"]
    assert (config["cancunTime"], config["pragueTime"]) == (0, 15_000)
    assert "osakaTime" not in config


@pytest.mark.integration
def test_engine_pass_runs_both_formats_and_fails_a_wrong_head(tmp_path: Path) -> None:
    engine_test = hand_made_engine_test()
    (tmp_path / "engine.json").write_text(json.dumps({"hand_made": engine_test}))  # the format on disk
    loaded = json.loads((tmp_path / "engine.json").read_text())["hand_made"]
    outcomes = Outcomes()
    run_engine_pass(loaded, outcomes)
    assert outcomes.valid_blocks == 2
    # the rehashed block reaches execution: the node names the state root, not the block hash
    assert outcomes.rejected == {
        "json-rpc error -38005 (fixture expects errorCode -38005)": 1,
        "state-root-mismatch (fixture expects BlockException.INVALID_STATE_ROOT)": 1,
    }, outcomes.rejected

    invalid = first_test(*INVALID_BAL)
    outcomes = Outcomes()
    run_engine_pass(invalid, outcomes)
    assert sum(outcomes.rejected.values()) == sum("expectException" in b for b in invalid["blocks"]) > 0

    wrong_head = copy.deepcopy(engine_test)
    wrong_head["lastblockhash"] = wrong_head["genesisBlockHeader"]["hash"]
    with pytest.raises(EnginePassError, match="lastblockhash"):
        run_engine_pass(wrong_head, Outcomes())


def test_tests_of_one_genesis_are_one_group_and_another_config_is_another() -> None:
    test = first_test(*TWO_BLOCKS)
    same = copy.deepcopy(test)
    same["blocks"] = same["blocks"][:1]
    same["lastblockhash"] = same["blocks"][0]["blockHeader"]["hash"]
    assert node_group(same) == node_group(test)
    other_chain = copy.deepcopy(test)
    other_chain["config"]["chainid"] = "0x2"
    assert node_group(other_chain) != node_group(test)


@pytest.mark.integration
def test_a_shared_node_serves_each_test_from_the_genesis_and_a_failure_retires_it() -> None:
    """Two blocks, then block 1 alone (a reorg back to its head), then the two again: one node.

    A test that fails (a wrong ``lastblockhash``) stops the node; the next test starts another.
    """
    two_blocks = first_test(*TWO_BLOCKS)
    one_block = copy.deepcopy(two_blocks)
    one_block["blocks"] = one_block["blocks"][:1]
    one_block["lastblockhash"] = one_block["blocks"][0]["blockHeader"]["hash"]
    outcomes = Outcomes()
    try:
        for test in (two_blocks, one_block, two_blocks):
            run_engine_pass(test, outcomes)
        assert outcomes.node_starts == 1
        assert outcomes.valid_blocks == 5
        wrong_head = copy.deepcopy(one_block)
        wrong_head["lastblockhash"] = two_blocks["lastblockhash"]
        with pytest.raises(EnginePassError, match="lastblockhash"):
            run_engine_pass(wrong_head, outcomes)
        run_engine_pass(two_blocks, outcomes)
        assert outcomes.node_starts == 2
    finally:
        SHARED_NODE.close()


@pytest.mark.parametrize(
    ("relative", "request_type"),
    [
        ("for_prague/prague/eip6110_deposits/eip_mainnet/eip_6110.json", 0),
        ("for_prague/prague/eip7002_el_triggerable_withdrawals/eip_mainnet/eip_7002.json", 1),
        ("for_prague/prague/eip7251_consolidations/eip_mainnet/eip_7251.json", 2),
    ],
)
def test_requests_a_blockchain_test_commits_to_are_derived_and_sent(relative: str, request_type: int) -> None:
    """No skip: the block's requests come from executing it here, and they hash to its requestsHash."""
    test = first_test("for_prague.tar.gz", relative)
    calls = blockchain_test_calls(test)
    sent = [c.new_payload[1][3] for c in calls if c.new_payload is not None]
    assert any(sent), "the fixture's blocks commit to no requests: pick another"
    types = {int(request[2:4], 16) for requests in sent for request in requests}
    assert request_type in types
    for call, block in zip(calls, test["blocks"], strict=True):
        assert call.new_payload is not None
        requests = [bytes.fromhex(r[2:]) for r in call.new_payload[1][3]]
        assert "0x" + requests_hash(requests).hex() == block["blockHeader"]["requestsHash"]


def test_requests_that_do_not_match_the_commitment_fail_the_harness() -> None:
    test = copy.deepcopy(
        first_test("for_prague.tar.gz", "for_prague/prague/eip6110_deposits/eip_mainnet/eip_6110.json")
    )
    header_items = rlp.decode(bytes.fromhex(test["blocks"][0]["rlp"][2:]))
    header_items[0][20] = b"\x22" * 32  # requestsHash: no execution can give this
    test["blocks"][0]["rlp"] = "0x" + rlp.encode(header_items).hex()
    # balrex's own import refuses the block (its requests hash differs): the harness fails the test
    with pytest.raises(EnginePassError, match="execution requests: block 1 does not execute here"):
        blockchain_test_calls(test)
