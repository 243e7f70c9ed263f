"""``balrex bench-chain``: a deterministic chain with a mainnet-like transaction mix.

The import benchmark needs blocks that do what mainnet blocks do to a state
of realistic size (many independent senders, hot token contracts, a DEX
pair, contract creations, slots set and cleared), and needs the same blocks
on every run. This package draws such a chain from a seed, builds every block
by executing it with balrex itself (so each block is valid and, on Amsterdam,
carries the BAL it produces), and writes it to a directory.

Output directory (format version 1)
-----------------------------------

``genesis.json``
    A geth-style genesis: ``config`` (``chainId`` 7928, every fork from
    Cancun to the chosen one at time 0, ``blobSchedule``), ``alloc`` (the
    system contracts, the tokens with their holders' balances and the pair's
    allowances in storage, the pair, the key-value store, the funded EOAs) and
    the header fields (gas limit 60M, base fee 1 gwei). Load it with
    :func:`client.chain_config.config_from_geth_genesis` and
    :func:`client.genesis.build_genesis` / ``Blockchain.init_genesis_state``.
``blocks.rlp``
    The RLP of blocks 1..N, concatenated in order (as geth's ``export``
    writes them).
``bals.rlp``
    Amsterdam only: the RLP of each block's access list
    (:func:`bal.encode_bal`), concatenated in block order.
``chain.json``
    Metadata: ``format`` ("balrex-bench-chain"), ``format_version``, ``fork``,
    ``seed``, ``blocks``, ``txs_per_block``, ``accounts``, ``gas_limit``,
    ``total_gas``, ``tx_kinds`` (count per kind), ``failed_tx_kinds`` (reverted
    transactions per kind, normally empty), ``genesis_hash``,
    ``last_block_hash`` and ``files`` (the sha256 of every other file).

The same arguments give byte-identical files. :func:`load_chain` reads a
directory back as a :class:`BenchChain`, checking every file's hash. The
generator, :func:`client.tools.bench_chain.generate.generate_chain`, is not
imported here: it needs the whole client, and readers of a chain should not.
"""

from .chain_files import BenchChain, BenchChainError, load_chain

__all__ = ["BenchChain", "BenchChainError", "load_chain"]
