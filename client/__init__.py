"""Chain configuration, genesis, fork classes beyond Prague, the blockchain and the command line."""

# Selects the keccak256 backend before anything hashes (see the module).
from . import keccak_backend  # noqa: E402, F401
