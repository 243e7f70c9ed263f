"""The slice of py-evm's chain database its VM touches while executing one block.

py-evm's VM asks its ``chaindb`` for three things: ``db`` (handed to the state
class, here the block's :class:`StateSource`), ancestor headers (BLOCKHASH,
the excess-blob-gas check) and a place to put transaction and receipt trie
nodes (which this client does not keep: bodies and receipts are stored whole).
"""

from __future__ import annotations

import rlp
from eth.abc import BlockHeaderAPI
from eth.exceptions import HeaderNotFound

from pipeline.state_source import StateSource
from storage import Chain

from .forks.amsterdam.headers import AmsterdamBackwardsHeader


def decode_header(header_rlp: bytes) -> BlockHeaderAPI:
    """Any fork's header from its RLP, by field count (23 fields: Amsterdam, else py-evm's classes)."""
    return rlp.decode(header_rlp, sedes=AmsterdamBackwardsHeader)


class StoreChainDB:
    def __init__(self, chain: Chain, state: StateSource) -> None:
        self._chain = chain
        self.db = state

    def get_block_header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI:
        header_rlp = self._chain.header_rlp(block_hash)
        if header_rlp is None:
            raise HeaderNotFound(f"no header 0x{block_hash.hex()}")
        return decode_header(header_rlp)

    def persist_trie_data_dict(self, trie_data_dict: dict[bytes, bytes]) -> None:
        """Transaction/receipt/withdrawal trie nodes are not kept: only their roots are checked."""
