"""The `balrex import-bench` command: import a chain, time each block's pipeline stages, report them."""
