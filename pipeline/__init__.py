"""One block through warmer, merkleizer and executor (not built yet: see the pipeline issue)."""
