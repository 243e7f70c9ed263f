"""A payload transaction of a type its fork does not have is named as such, not as malformed."""

from __future__ import annotations

import pytest

from client.chain_config import Fork
from client.forks import FORK_VMS
from engine_api.payload import decode_transactions
from pipeline import BlockRejected, Rule

SET_CODE_TX_TYPE = b"\x04"  # EIP-7702, from Prague on


def test_a_prague_transaction_type_in_a_cancun_payload_is_an_unsupported_type() -> None:
    cancun_block = FORK_VMS[Fork.CANCUN].get_block_class()
    with pytest.raises(BlockRejected) as refused:
        decode_transactions(cancun_block, [SET_CODE_TX_TYPE + b"\xc0"])
    assert refused.value.rule is Rule.UNSUPPORTED_TRANSACTION_TYPE


def test_undecodable_bytes_of_a_known_type_are_a_malformed_transaction() -> None:
    prague_block = FORK_VMS[Fork.PRAGUE].get_block_class()
    with pytest.raises(BlockRejected) as refused:
        decode_transactions(prague_block, [SET_CODE_TX_TYPE + b"\xc0"])
    assert refused.value.rule is Rule.MALFORMED_TRANSACTION
