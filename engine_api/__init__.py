"""Engine API: JSON-RPC over HTTP with JWT auth (not built yet: see the Engine API issue)."""
