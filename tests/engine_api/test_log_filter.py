"""The matching rules of an ``eth_getLogs`` filter (execution-apis ``Filter``) and its bloom pre-check."""

from __future__ import annotations

from eth_bloom import BloomFilter

from engine_api.log_filter import LogFilter

TOKEN, OTHER = b"\x0a" * 20, b"\x0b" * 20
TRANSFER, APPROVAL, ALICE, BOB = (bytes([n]) * 32 for n in (1, 2, 3, 4))


def test_no_selection_matches_every_log() -> None:
    assert LogFilter.of(None, None).matches(TOKEN, [])
    assert LogFilter.of([], []).matches(OTHER, [TRANSFER])


def test_addresses_are_alternatives() -> None:
    selection = LogFilter.of([TOKEN, OTHER], None)
    assert selection.matches(TOKEN, []) and selection.matches(OTHER, [])
    assert not selection.matches(b"\x0c" * 20, [])


def test_topic_positions_wildcards_and_alternatives() -> None:
    transfers_to_bob = LogFilter.of(None, [[TRANSFER], None, [BOB]])
    assert transfers_to_bob.matches(TOKEN, [TRANSFER, ALICE, BOB])
    assert transfers_to_bob.matches(TOKEN, [TRANSFER, BOB, BOB, ALICE])  # later topics are free
    assert not transfers_to_bob.matches(TOKEN, [APPROVAL, ALICE, BOB])
    assert not transfers_to_bob.matches(TOKEN, [TRANSFER, ALICE, ALICE])
    either = LogFilter.of(None, [[TRANSFER, APPROVAL]])
    assert either.matches(TOKEN, [APPROVAL]) and not either.matches(TOKEN, [ALICE])
    # An empty list at a position is a wildcard like null (execution-apis' topic-wildcard test).
    assert LogFilter.of(None, [[], [BOB]]).matches(TOKEN, [ALICE, BOB])


def test_a_log_with_fewer_topics_than_positions_never_matches() -> None:
    assert not LogFilter.of(None, [None, None]).matches(TOKEN, [TRANSFER])
    assert LogFilter.of(None, [None, None]).matches(TOKEN, [TRANSFER, ALICE])


def test_bloom_rejects_only_blocks_without_a_possible_match() -> None:
    bloom = BloomFilter()
    for item in (TOKEN, TRANSFER, ALICE):
        bloom.add(item)
    assert LogFilter.of([TOKEN], [[TRANSFER], None, [ALICE, BOB]]).may_match_bloom(int(bloom))
    assert not LogFilter.of([OTHER], None).may_match_bloom(int(bloom))
    assert not LogFilter.of(None, [[APPROVAL]]).may_match_bloom(int(bloom))
    assert LogFilter.of(None, None).may_match_bloom(0)
    assert not LogFilter.of(None, [None] * 5).may_match_bloom(int(bloom))
