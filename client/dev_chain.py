"""The private development chain of ``balrex dev``: its genesis per fork, its accounts, their transfers.

The genesis is :func:`client.dev_genesis.dev_genesis` with the fork schedule
cut at the chosen fork (every fork up to it active from genesis), so a dev
chain can be Cancun, Prague, Osaka or Amsterdam. Its funded accounts have
public keys: ``keccak256("balrex dev account <i>")``, like geth's ``--dev``
account they are for local use only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_keys import keys

from .chain_config import FORK_ORDER, Fork
from .dev_genesis import CHAIN_ID, DEV_BALANCE, dev_genesis, dev_keys
from .forks import FORK_VMS

DEV_FORKS = (Fork.CANCUN, Fork.PRAGUE, Fork.OSAKA, Fork.AMSTERDAM)
TRANSFER_GAS = 21_000
RECEIPT_WAIT_SECONDS = 30.0


class DevRpcError(RuntimeError):
    """The dev node refused a call of ``balrex dev tx`` (its JSON-RPC error), or no receipt came."""


@dataclass(frozen=True)
class DevAccount:
    index: int
    key: keys.PrivateKey
    balance: int

    @property
    def address(self) -> bytes:
        return bytes(self.key.public_key.to_canonical_address())

    @property
    def checksum_address(self) -> str:
        return str(self.key.public_key.to_checksum_address())


def dev_accounts() -> list[DevAccount]:
    return [DevAccount(index, keys.PrivateKey(key), DEV_BALANCE) for index, key in enumerate(dev_keys())]


def dev_genesis_for(fork: Fork) -> dict[str, Any]:
    """The dev genesis with every fork up to ``fork`` at time 0 and none after it."""
    if fork not in DEV_FORKS:
        raise ValueError(f"a dev chain is one of {', '.join(DEV_FORKS)}, not {fork}")
    genesis = dev_genesis()
    later = FORK_ORDER[FORK_ORDER.index(fork) + 1 :]
    for name in later:
        genesis["config"].pop(f"{name}Time", None)
        genesis["config"]["blobSchedule"].pop(str(name), None)
    return genesis


def signed_transfer(
    account: DevAccount,
    *,
    chain_id: int,
    nonce: int,
    to: bytes,
    value: int,
    max_fee_per_gas: int,
    max_priority_fee_per_gas: int,
) -> bytes:
    """An EIP-1559 transfer from a dev account, signed, in its canonical encoding.

    A type-2 transaction encodes the same in every fork from London on: Cancun's builder signs for all.
    """
    builder = FORK_VMS[Fork.CANCUN].get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id,
        nonce=nonce,
        max_priority_fee_per_gas=max_priority_fee_per_gas,
        max_fee_per_gas=max_fee_per_gas,
        gas=TRANSFER_GAS,
        to=to,
        value=value,
        data=b"",
        access_list=[],
    )
    return bytes(unsigned.as_signed_transaction(account.key).encode())


def dev_banner(
    fork: Fork, datadir: Path, slot_seconds: float, authrpc_port: int, http_addr: str, http_port: int
) -> str:
    """What ``balrex dev`` prints first: the chain, where to reach it, and the dev accounts' keys."""
    lines = [
        f"balrex dev: a private {fork} chain (chain id {CHAIN_ID}), one block every {slot_seconds:g} s",
        f"  data       {datadir}  (genesis {datadir / 'genesis.json'}, JWT secret {datadir / 'jwt.hex'})",
        f"  json-rpc   http://{http_addr}:{http_port}  (eth_, no auth)",
        f"  engine api http://127.0.0.1:{authrpc_port}  (JWT; the built-in producer drives it)",
        'dev accounts: key i is keccak256("balrex dev account <i>"): public, for local use only',
    ]
    for account in dev_accounts():
        lines.append(
            f"  ({account.index}) {account.checksum_address}  key 0x{account.key.to_bytes().hex()}  "
            f"{account.balance // 10**18} ETH"
        )
    return "\n".join(lines)


def send_transfer(rpc_url: str, account: DevAccount, to: bytes, value: int, *, wait: bool) -> dict[str, Any]:
    """Sign and send a transfer through ``rpc_url``; its receipt once mined (``wait``), else its hash."""
    with httpx.Client(timeout=30) as client:

        def call(method: str, *params: Any) -> Any:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
            answer = client.post(rpc_url, json=body).json()
            if "error" in answer:
                raise DevRpcError(f"{method}: {answer['error']['message']}")
            return answer["result"]

        sender = "0x" + account.address.hex()
        tip = int(call("eth_maxPriorityFeePerGas"), 16)
        base_fee = int(call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        raw = signed_transfer(
            account,
            chain_id=int(call("eth_chainId"), 16),
            nonce=int(call("eth_getTransactionCount", sender, "pending"), 16),
            to=to,
            value=value,
            max_fee_per_gas=2 * base_fee + tip,
            max_priority_fee_per_gas=tip,
        )
        tx_hash = call("eth_sendRawTransaction", "0x" + raw.hex())
        if not wait:
            return {"transactionHash": tx_hash}
        deadline = time.monotonic() + RECEIPT_WAIT_SECONDS
        while time.monotonic() < deadline:
            receipt = call("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return dict(receipt)
            time.sleep(0.5)
        raise DevRpcError(f"transaction {tx_hash} was not mined within {RECEIPT_WAIT_SECONDS:g} s")
