"""EIP-7708: ETH transfers and burns as logs from the system address 0xff..fe.

Logs cost no gas. A transfer log is added to the frame that receives the
value, so it disappears with that frame (or an ancestor) when it fails.
"""

from __future__ import annotations

from eth.abc import ComputationAPI
from eth_hash.auto import keccak

TRANSFER_LOG_ADDRESS = b"\xff" * 19 + b"\xfe"
TRANSFER_TOPIC = int.from_bytes(keccak(b"Transfer(address,address,uint256)"), "big")
BURN_TOPIC = int.from_bytes(keccak(b"Burn(address,uint256)"), "big")


def _word(address: bytes) -> int:
    return int.from_bytes(address, "big")


def transfer_log(sender: bytes, recipient: bytes, amount: int) -> tuple[bytes, tuple[int, ...], bytes]:
    """(address, topics, data) of a Transfer log."""
    return (
        TRANSFER_LOG_ADDRESS,
        (TRANSFER_TOPIC, _word(sender), _word(recipient)),
        amount.to_bytes(32, "big"),
    )


def burn_log(account: bytes, amount: int) -> tuple[bytes, tuple[int, ...], bytes]:
    """(address, topics, data) of a Burn log."""
    return TRANSFER_LOG_ADDRESS, (BURN_TOPIC, _word(account)), amount.to_bytes(32, "big")


def log_transfer(computation: ComputationAPI, sender: bytes, recipient: bytes, amount: int) -> None:
    """Add a Transfer log to ``computation`` when value really moves between two accounts."""
    if amount > 0 and sender != recipient:
        computation.add_log_entry(*transfer_log(sender, recipient, amount))


def log_burn(computation: ComputationAPI, account: bytes, amount: int) -> None:
    if amount > 0:
        computation.add_log_entry(*burn_log(account, amount))
