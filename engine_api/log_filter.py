"""What an ``eth_getLogs`` filter selects: addresses and topics, and whether a block's bloom can hold a match.

The matching rules are execution-apis' ``Filter`` object: ``address`` is one
address or a list (any of them; absent or empty: any address); ``topics`` is a
list of positions, each ``null`` (any topic), one topic, or a list of topics
(any of them; an empty list is a wildcard like ``null``). A log matches when
its address is selected and, for every position the filter names, it has a
topic there that the position allows: a log with fewer topics than the
filter has positions never matches, even if the extra positions are
wildcards (geth's rule). Positions beyond the filter's list are not looked at.

The bloom check comes first so a block whose header bloom cannot hold a
matching log is skipped without reading its receipts (the bloom has no false
negatives: a block it rejects has no match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_bloom.bloom import BloomFilter

# A log has at most four topics (LOG0..LOG4): a filter naming a fifth position matches nothing.
MAX_TOPIC_POSITIONS = 4


@dataclass(frozen=True)
class LogFilter:
    """The selection part of a filter; ``None`` is a wildcard (any address, any topic at a position)."""

    addresses: frozenset[bytes] | None = None
    topics: tuple[frozenset[bytes] | None, ...] = ()

    @classmethod
    def of(
        cls,
        addresses: Sequence[bytes] | None,
        topics: Sequence[Sequence[bytes] | None] | None,
    ) -> LogFilter:
        """A filter from the request's lists; empty lists are wildcards, as for geth."""
        positions = tuple(frozenset(position) if position else None for position in topics or ())
        return cls(frozenset(addresses) if addresses else None, positions)

    def matches(self, address: bytes, topics: Sequence[bytes]) -> bool:
        """Whether a log of ``address`` with ``topics`` (32 bytes each) is selected."""
        if self.addresses is not None and address not in self.addresses:
            return False
        if len(topics) < len(self.topics):
            return False
        positions = zip(self.topics, topics, strict=False)  # topics past the filter's positions are free
        return all(allowed is None or topic in allowed for allowed, topic in positions)

    def may_match_bloom(self, bloom: int) -> bool:
        """False when a block (or receipt) with this logs bloom cannot hold a matching log."""
        if len(self.topics) > MAX_TOPIC_POSITIONS:
            return False
        accumulated = BloomFilter(bloom)
        if self.addresses is not None and not any(address in accumulated for address in self.addresses):
            return False
        return all(
            allowed is None or any(topic in accumulated for topic in allowed) for allowed in self.topics
        )
