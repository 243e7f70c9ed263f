"""The built-in development genesis of ``balrex node`` (used when no --genesis is given).

Amsterdam is active from genesis (with Cancun, Prague and Osaka before it at time 0), so
the genesis header is Amsterdam's (the empty BAL's hash, slot number 0) and every block
is a newPayloadV5 payload with its block access list; chain id 1337; the system contracts
(EIP-4788, 2935, 7002, 7251, the same in Amsterdam) are predeployed with their canonical
code; a few dev accounts are funded. The dev keys are
``keccak256("balrex dev account <i>")``: public knowledge, for local use only.
"""

from __future__ import annotations

from typing import Any

from eth_hash.auto import keccak

# address -> runtime code, copied from the EF Prague fixtures' pre-state.
SYSTEM_CONTRACTS: dict[str, str] = {
    # EIP-4788 beacon roots
    "0x000f3df6d732807ef1319fb7b8bb8522d0beac02": (
        "0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001f"
        "ff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff01"
        "5500"
    ),
    # EIP-2935 history storage
    "0x0000f90827f1c53a10cb7a02335b175320002935": (
        "0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff"
        "81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
    ),
    # EIP-7002 withdrawal requests
    "0x00000961ef480eb55e80d19ad83579a64c007002": (
        "0x3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffff146101f457600182026001905f5b5f82111560685781019083028483029004"
        "916001019190604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f457"
        "600154600101600155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f6014"
        "37604c5fa0600101600355005b6003546002548082038060101160df575060105b5f5b81811461018357828101600302"
        "60040181604c02815460601b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffff"
        "ffff00000000000000000000000000000000168252906010019060401c908160381c81600701538160301c8160060153"
        "8160281c81600501538160201c81600401538160181c81600301538160101c81600201538160081c8160010153536001"
        "0160e1565b910180921461019557906002556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffffffffffffff14156101cd57505f5b6001546002828201116101e25750505f61"
        "01e8565b01600290035b5f555f600155604c025ff35b5f5ffd"
    ),
    # EIP-7251 consolidation requests
    "0x0000bbddc7ce488642fb579f8b00f3a590007251": (
        "0x3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffff1461019a57600182026001905f5b5f82111560685781019083028483029004"
        "916001019190604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a57"
        "600154600101600155600354806004026004013381556001015f35815560010160203581556001016040359055336060"
        "1b5f5260605f60143760745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b8181146101"
        "295782810160040260040181607402815460601b81526014018160010154815260200181600201548152602001906003"
        "0154905260010160e9565b910180921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffff"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff141561017357505f5b6001546001828201116101"
        "885750505f61018e565b01600190035b5f555f6001556074025ff35b5f5ffd"
    ),
}


def dev_keys() -> list[bytes]:
    """The dev accounts' private keys: keccak256("balrex dev account <i>"), i = 0..3."""
    return [keccak(f"balrex dev account {i}".encode()) for i in range(4)]


# The addresses of dev_keys(), in order (checked by the tests).
DEV_ACCOUNTS: tuple[str, ...] = (
    "0xE287CFB445b2285E42501365DcEa47110D9B0dfF",
    "0x1B0BA2e06Dd36d8A1eEd062EBBe9d3C97a7d4f04",
    "0x4B4c792d65a47E05c4cf6071204775225331Ed20",
    "0x7295FD14E499B90ADcF8EcAa45344f68cE19F23C",
)

DEV_BALANCE = 10**24  # one million ether each
CHAIN_ID = 1337


def dev_genesis() -> dict[str, Any]:
    """A geth-style genesis dict (fresh copy each call)."""
    alloc: dict[str, dict[str, Any]] = {
        address: {"balance": "0x0", "nonce": "0x1", "code": code}
        for address, code in SYSTEM_CONTRACTS.items()
    }
    for address in DEV_ACCOUNTS:
        alloc[address.lower()] = {"balance": hex(DEV_BALANCE)}
    return {
        "config": {
            "chainId": CHAIN_ID,
            "cancunTime": 0,
            "pragueTime": 0,
            "osakaTime": 0,
            "amsterdamTime": 0,
            "blobSchedule": {
                "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
                "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
                "osaka": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
                "amsterdam": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x62616c726578",  # "balrex"
        "gasLimit": hex(36_000_000),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": hex(10**9),
        "excessBlobGas": "0x0",
        "blobGasUsed": "0x0",
        "slotNumber": "0x0",
        "alloc": alloc,
    }
