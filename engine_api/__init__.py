"""Engine API: JSON-RPC 2.0 over HTTP with JWT auth, served by hypercorn on trio.

``app`` (ASGI: auth, body limit), ``jsonrpc`` (envelope, dispatch, params),
``models`` (pydantic, hex rules), ``payload`` (payload <-> block), ``methods``
(the Engine API and ``eth_`` methods over a :class:`client.blockchain.Blockchain`).
The server process is ``balrex node`` (:mod:`engine_api.node`).
"""
