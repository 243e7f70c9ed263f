"""``balrex dev load``: thousands of transactions of several kinds into a running dev chain, block by block.

It plays many wallets at once against ``balrex dev``'s public port, with
nothing but JSON-RPC (``eth_sendRawTransaction`` in batches), so the chain
it leaves is one a user could have made: the input of the replay check of
issue #19 (export the stopped node, feed every block to a fresh node through
``engine_newPayload``, compare the heads).

* **Setup** (one block): the four dev accounts fund ``senders`` load
  accounts (keys ``keccak256("balrex load sender <i>")``) and each deploy a
  token (the bench chain's ERC-20 subset, all of its supply to its deployer).
* **Load**: the transactions are spread over ``min_blocks`` blocks, one wave
  per block: each wave is signed, sent, and the driver waits for the next
  head. Kinds in turn: a legacy transfer (EIP-155), an EIP-2930 transfer
  with an access list, an EIP-1559 transfer, a contract deployment (load
  accounts), and a token ``transfer`` (dev accounts, which hold the tokens:
  a storage write and a ``Transfer`` log). Recipients are fresh addresses.
* **End**: every sender's transactions are mined (its nonce at the head),
  and at least ``min_blocks`` blocks have been produced since the start; the
  receipts of those blocks are read back and counted.

Fees: tips of 1 gwei, fee caps (and legacy prices) of twice the head's base
fee plus the tip, so a wave stays valid for a few blocks of rising base fee.
A refused transaction stops the run (its nonce would leave a gap).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth._utils.address import generate_contract_address
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth_hash.auto import keccak
from eth_keys import keys
from eth_typing import Address

from ..chain_config import Fork
from ..dev_chain import DevRpcError, dev_accounts
from ..forks import FORK_VMS
from .bench_chain.contracts import TRANSFER, call_data, token_initcode

GWEI = 10**9
LOAD_SENDER_FUNDS = 1_000 * 10**18
TOKEN_SUPPLY = 10**30
TRANSFER_GAS, ACCESS_LIST_GAS, TOKEN_CALL_GAS, DEPLOY_GAS = 21_000, 30_000, 100_000, 500_000
KINDS = ("legacy", "access_list", "dynamic", "deploy", "token_transfer")
# The public port refuses batches of more than 100 calls (engine_api.jsonrpc.DEFAULT_MAX_BATCH).
BATCH_SIZE = 100
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class LoadSettings:
    txs: int = 2_000
    min_blocks: int = 50
    senders: int = 8
    timeout_seconds: float = 1_800.0


@dataclass
class LoadReport:
    """What the run sent and what the chain holds afterwards (from the receipts)."""

    sent: Counter[str] = field(default_factory=Counter)
    first_block: int = 0
    last_block: int = 0
    included: int = 0
    failed: int = 0
    busiest_block: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        blocks = self.last_block - self.first_block + 1
        return {
            "sent": sum(self.sent.values()),
            "sent_by_kind": dict(sorted(self.sent.items())),
            "blocks": blocks,
            "first_block": self.first_block,
            "last_block": self.last_block,
            "included": self.included,
            "failed_receipts": self.failed,
            "most_txs_in_a_block": self.busiest_block,
            "seconds": round(self.seconds, 1),
            "txs_per_second": round(self.included / self.seconds, 1) if self.seconds else 0.0,
        }


class DevRpc:
    """JSON-RPC calls (and batches) to the dev node's public port."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=60)

    def call(self, method: str, *params: Any) -> Any:
        answer = self.client.post(self.url, json=_request(0, method, list(params))).json()
        if "error" in answer:
            raise DevRpcError(f"{method}: {answer['error']['message']}")
        return answer["result"]

    def send_raw(self, raw_transactions: list[bytes]) -> None:
        """eth_sendRawTransaction for each, in batches; any refusal raises (it would leave a nonce gap)."""
        for start in range(0, len(raw_transactions), BATCH_SIZE):
            chunk = raw_transactions[start : start + BATCH_SIZE]
            batch = [_request(i, "eth_sendRawTransaction", ["0x" + raw.hex()]) for i, raw in enumerate(chunk)]
            answers = self.client.post(self.url, json=batch).json()
            refused = [answer["error"]["message"] for answer in answers if "error" in answer]
            if refused:
                raise DevRpcError(f"{len(refused)} transactions refused, the first: {refused[0]}")

    def head_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def close(self) -> None:
        self.client.close()


def _request(request_id: int, method: str, params: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


@dataclass
class _Sender:
    key: keys.PrivateKey
    nonce: int

    @property
    def address(self) -> bytes:
        return bytes(self.key.public_key.to_canonical_address())

    def take_nonce(self) -> int:
        self.nonce += 1
        return self.nonce - 1


def load_keys(count: int) -> list[keys.PrivateKey]:
    """The load accounts' keys: public, like the dev accounts' (keccak256("balrex load sender <i>"))."""
    return [keys.PrivateKey(keccak(f"balrex load sender {i}".encode())) for i in range(count)]


class LoadDriver:
    def __init__(self, rpc: DevRpc, settings: LoadSettings) -> None:
        self.rpc = rpc
        self.settings = settings
        self.chain_id = int(rpc.call("eth_chainId"), 16)
        # Type 0, 1 and 2 transactions encode and sign the same in every fork from Cancun on.
        self.builder = FORK_VMS[Fork.CANCUN].get_transaction_builder()
        self.report = LoadReport()
        self.holders = [self._sender(account.key) for account in dev_accounts()]
        self.senders = [self._sender(key) for key in load_keys(settings.senders)]
        self.tokens: list[bytes] = []
        self.fee_cap = 0
        self.recipients = 0

    def _sender(self, key: keys.PrivateKey) -> _Sender:
        address = "0x" + key.public_key.to_canonical_address().hex()
        return _Sender(key, int(self.rpc.call("eth_getTransactionCount", address, "pending"), 16))

    def run(self) -> LoadReport:
        started = time.monotonic()
        deadline = started + self.settings.timeout_seconds
        self.report.first_block = self.rpc.head_number() + 1
        self._refresh_fees()
        self._send(self._setup_wave())
        self._wait_mined(deadline)
        remaining = self.settings.txs - sum(self.report.sent.values())
        waves = max(1, self.settings.min_blocks - 2)  # the setup's block, and one to mine the last wave
        per_wave = math.ceil(remaining / waves) if remaining > 0 else 0
        index = 0
        while remaining > 0:
            self._refresh_fees()
            count = min(per_wave, remaining)
            self._send([self._load_transaction(index + offset) for offset in range(count)])
            index, remaining = index + count, remaining - count
            self._wait_next_block(deadline)
        self._wait_mined(deadline)
        while self.rpc.head_number() < self.report.first_block + self.settings.min_blocks - 1:
            self._wait_next_block(deadline)
        self.report.last_block = self.rpc.head_number()
        self.report.seconds = time.monotonic() - started
        self._count_receipts()
        return self.report

    # -- transactions ------------------------------------------------------------------

    def _setup_wave(self) -> list[tuple[str, bytes]]:
        wave = []
        for position, sender in enumerate(self.senders):
            holder = self.holders[position % len(self.holders)]
            wave.append(("fund", self._dynamic(holder, sender.address, LOAD_SENDER_FUNDS, TRANSFER_GAS)))
        for holder in self.holders:
            self.tokens.append(generate_contract_address(Address(holder.address), holder.nonce))
            wave.append(
                (
                    "token_deploy",
                    self._dynamic(
                        holder, CREATE_CONTRACT_ADDRESS, 0, DEPLOY_GAS, token_initcode(TOKEN_SUPPLY)
                    ),
                )
            )
        return wave

    def _load_transaction(self, index: int) -> tuple[str, bytes]:
        kind = KINDS[index % len(KINDS)]
        sender = self.senders[index % len(self.senders)]
        recipient = self._fresh_recipient()
        if kind == "legacy":
            unsigned = self.builder.create_unsigned_transaction(
                nonce=sender.take_nonce(),
                gas_price=self.fee_cap,
                gas=TRANSFER_GAS,
                to=recipient,
                value=1,
                data=b"",
            )
            return kind, bytes(unsigned.as_signed_transaction(sender.key, chain_id=self.chain_id).encode())
        if kind == "access_list":
            unsigned = self.builder.new_unsigned_access_list_transaction(
                chain_id=self.chain_id,
                nonce=sender.take_nonce(),
                gas_price=self.fee_cap,
                gas=ACCESS_LIST_GAS,
                to=recipient,
                value=1,
                data=b"",
                access_list=[(recipient, [])],
            )
            return kind, bytes(unsigned.as_signed_transaction(sender.key).encode())
        if kind == "dynamic":
            return kind, self._dynamic(sender, recipient, 1, TRANSFER_GAS)
        if kind == "deploy":
            return kind, self._dynamic(sender, CREATE_CONTRACT_ADDRESS, 0, DEPLOY_GAS, token_initcode(index))
        holder_index = index % len(self.holders)
        data = call_data(TRANSFER, recipient, 1 + index)
        return kind, self._dynamic(
            self.holders[holder_index], self.tokens[holder_index], 0, TOKEN_CALL_GAS, data
        )

    def _dynamic(self, sender: _Sender, to: bytes, value: int, gas: int, data: bytes = b"") -> bytes:
        unsigned = self.builder.new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id,
            nonce=sender.take_nonce(),
            max_priority_fee_per_gas=GWEI,
            max_fee_per_gas=self.fee_cap,
            gas=gas,
            to=to,
            value=value,
            data=data,
            access_list=[],
        )
        return bytes(unsigned.as_signed_transaction(sender.key).encode())

    def _fresh_recipient(self) -> bytes:
        self.recipients += 1
        return keccak(f"balrex load recipient {self.recipients}".encode())[:20]

    def _refresh_fees(self) -> None:
        base_fee = int(self.rpc.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        self.fee_cap = 2 * base_fee + GWEI

    def _send(self, wave: list[tuple[str, bytes]]) -> None:
        self.rpc.send_raw([raw for _, raw in wave])
        self.report.sent.update(kind for kind, _ in wave)

    # -- waiting and counting ----------------------------------------------------------

    def _wait_next_block(self, deadline: float) -> None:
        start = self.rpc.head_number()
        while self.rpc.head_number() == start:
            _before(deadline, f"no block after {start}: is `balrex dev` producing?")
            time.sleep(POLL_SECONDS)

    def _wait_mined(self, deadline: float) -> None:
        """Until every sender's nonce at the head is the next one it would use."""
        for sender in self.holders + self.senders:
            address = "0x" + sender.address.hex()
            while int(self.rpc.call("eth_getTransactionCount", address, "latest"), 16) < sender.nonce:
                _before(deadline, f"transactions of {address} not mined")
                time.sleep(POLL_SECONDS * 5)

    def _count_receipts(self) -> None:
        for number in range(self.report.first_block, self.report.last_block + 1):
            receipts = self.rpc.call("eth_getBlockReceipts", hex(number)) or []
            self.report.included += len(receipts)
            self.report.failed += sum(receipt["status"] != "0x1" for receipt in receipts)
            self.report.busiest_block = max(self.report.busiest_block, len(receipts))


def _before(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise DevRpcError(f"timed out: {what}")


def run_load(rpc_url: str, settings: LoadSettings) -> LoadReport:
    rpc = DevRpc(rpc_url)
    try:
        return LoadDriver(rpc, settings).run()
    finally:
        rpc.close()
