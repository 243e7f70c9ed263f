"""Command-line tools apart from the chain core: bench-chain, import-bench, dossier."""
