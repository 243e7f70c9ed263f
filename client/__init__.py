"""Chain configuration, genesis, fork classes beyond Prague, the blockchain and the command line."""
