"""A later part recovers its transactions' senders a batch at a time (``SENDER_BATCH``), as it goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bal import synthesize_deltas
from client.block_decoding import decode_transaction
from client.blockchain import Blockchain
from client.forks.amsterdam import SENDER_BATCH
from client.forks.amsterdam.later_part import PartResult
from client.genesis import build_genesis
from client.senders import SENDER_CACHE
from client.tools.bench_chain.chain_files import load_chain
from client.tools.bench_chain.generate import ChainSettings, generate_chain
from pipeline.state_source import StateSource
from storage import MemoryStore

pytestmark = pytest.mark.slow  # generates a chain

FIRST = 4


def test_a_later_part_recovers_senders_one_batch_ahead_and_no_further(tmp_path: Path) -> None:
    generate_chain(
        ChainSettings(fork="amsterdam", blocks=1, txs_per_block=48, seed=5, accounts=120), tmp_path
    )
    chain = load_chain(tmp_path)
    bal = chain.bals[0]
    assert bal is not None
    genesis = build_genesis(chain.genesis)
    store = MemoryStore()
    blockchain = Blockchain(store, chain.config)
    blockchain.init_genesis_state(genesis.state, genesis.block_rlp)
    decoded = blockchain.decode(chain.blocks[0], body=False)
    builder = decoded.vm_class.get_transaction_builder()
    encodings = decoded.encoded.transaction_encodings[FIRST:]
    transactions = [decode_transaction(builder, encoding) for encoding in encodings]
    assert not any(SENDER_CACHE in tx.__dict__ for tx in transactions)
    source = StateSource(store, decoded.parent.state_root, parent_has_flat_state=True)
    vm = blockchain.block_vm(decoded.vm_class, decoded.block.header, source)
    # The node's process takes the part over from its 21st transaction on (a steal).
    runs = SENDER_BATCH + 4
    result = vm.execute_later_part(
        decoded.block,
        FIRST,
        transactions,
        tuple(synthesize_deltas(bal, through_index=FIRST)),
        lambda index: index < FIRST + runs,
    )
    assert isinstance(result, PartResult) and len(result.outcomes) == runs
    recovered = [SENDER_CACHE in tx.__dict__ for tx in transactions]
    # Two batches were reached, the second one whole; the transactions past it were never touched.
    assert recovered == [True] * (2 * SENDER_BATCH) + [False] * (len(transactions) - 2 * SENDER_BATCH)
