"""The bench chain's contracts in assembly, their storage layout and their calldata.

Three small contracts give the mix the access patterns of mainnet's busiest ones:

* a token (the ERC-20 subset that dominates mainnet traffic: ``transfer``,
  ``approve``, ``transferFrom``, with ``Transfer``/``Approval`` logs), laid out
  like Solidity so the genesis can hold balances directly: balances are
  ``mapping(address => uint256)`` at slot 0, allowances ``mapping(address =>
  mapping(address => uint256))`` at slot 1;
* a constant-product pair (x*y=k with the 0.3% fee) over two tokens whose
  addresses are baked into its code (like Solidity immutables): a swap reads
  and writes both reserves (slots 0 and 1) and calls both tokens;
* a key-value store keyed by caller (``mapping(address => mapping(uint256 =>
  uint256))`` flattened to ``keccak(caller ++ key)``): writes of zero clear
  slots and earn refunds.

Every public function returns nothing interesting on success and reverts on
failure, so a receipt's status is the outcome.
"""

from __future__ import annotations

from eth_hash.auto import keccak

from .assembler import Item, Label, Push, Ref, assemble

BALANCES_SLOT = 0
ALLOWANCES_SLOT = 1
RESERVE0_SLOT = 0
RESERVE1_SLOT = 1


def _selector(signature: str) -> int:
    return int.from_bytes(keccak(signature.encode())[:4], "big")


def _topic(signature: str) -> int:
    return int.from_bytes(keccak(signature.encode()), "big")


TRANSFER = _selector("transfer(address,uint256)")
APPROVE = _selector("approve(address,uint256)")
TRANSFER_FROM = _selector("transferFrom(address,address,uint256)")
SWAP = _selector("swap(uint256,uint256)")  # (amountIn, oneForZero): the pair's only function
TRANSFER_TOPIC = _topic("Transfer(address,address,uint256)")
APPROVAL_TOPIC = _topic("Approval(address,address,uint256)")

FEE_NUMERATOR, FEE_DENOMINATOR = 997, 1000


# -- storage layout --------------------------------------------------------------


def _word(value: bytes | int) -> bytes:
    return value.rjust(32, b"\x00") if isinstance(value, bytes) else value.to_bytes(32, "big")


def mapping_slot(key: bytes | int, base: int) -> int:
    """Solidity's slot of ``mapping[key]`` for a mapping at slot ``base``."""
    return int.from_bytes(keccak(_word(key) + _word(base)), "big")


def balance_slot(holder: bytes) -> int:
    return mapping_slot(holder, BALANCES_SLOT)


def allowance_slot(owner: bytes, spender: bytes) -> int:
    return mapping_slot(spender, mapping_slot(owner, ALLOWANCES_SLOT))


def store_slot(caller: bytes, key: int) -> int:
    """The key-value store's slot for ``key`` written by ``caller``."""
    return mapping_slot(caller, key)


def swap_output(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """What the pair pays out for ``amount_in`` (the same integer arithmetic as its code)."""
    scaled = amount_in * FEE_NUMERATOR
    return reserve_out * scaled // (reserve_in * FEE_DENOMINATOR + scaled)


# -- calldata --------------------------------------------------------------------------


def call_data(selector: int, *args: bytes | int) -> bytes:
    return selector.to_bytes(4, "big") + b"".join(_word(arg) for arg in args)


def store_call(key: int, value: int) -> bytes:
    """The key-value store has no selector: calldata is ``key ++ value``."""
    return _word(key) + _word(value)


# -- assembly ----------------------------------------------------------------------------


def _slot_of(base: int) -> list[Item]:
    """Replace the key on top of the stack with ``keccak(key ++ base)`` (scratch memory 0..64)."""
    return [0, "MSTORE", base, 32, "MSTORE", 64, 0, "SHA3"]


def _slot_of_top_as_base() -> list[Item]:
    """Replace [key, base] on the stack with ``keccak(key ++ base)``: a nested mapping's slot."""
    return ["SWAP1", 32, "MSTORE", 0, "MSTORE", 64, 0, "SHA3"]


def _dispatch(routes: dict[int, str]) -> list[Item]:
    """Jump to the label of the calldata's selector (left on the stack), else revert."""
    program: list[Item] = [0, "CALLDATALOAD", 0xE0, "SHR"]
    for selector, label in routes.items():
        program += ["DUP1", Push(selector, 4), "EQ", Ref(label), "JUMPI"]
    return [*program, Ref("revert"), "JUMP"]


_RETURN_TRUE: list[Item] = [1, 0, "MSTORE", 32, 0, "RETURN"]
_REVERT: list[Item] = [Label("revert"), 0, 0, "REVERT"]


def _token_runtime_program() -> list[Item]:
    return [
        *_dispatch({TRANSFER: "transfer", APPROVE: "approve", TRANSFER_FROM: "transfer_from"}),
        # transfer(to, amount): move from the caller.
        Label("transfer"), "POP",
        36, "CALLDATALOAD", 4, "CALLDATALOAD", "CALLER",  # [from, to, amount]
        Ref("move"), "JUMP",
        # transferFrom(from, to, amount): spend the caller's allowance, then move.
        Label("transfer_from"), "POP",
        68, "CALLDATALOAD", 36, "CALLDATALOAD", 4, "CALLDATALOAD",  # [from, to, amount]
        "DUP1", *_slot_of(ALLOWANCES_SLOT), "CALLER", *_slot_of_top_as_base(),  # [aslot, from, to, amount]
        "DUP1", "SLOAD", "DUP5", "DUP2", "DUP2", "GT", Ref("revert"), "JUMPI",  # amount > allowance
        "SWAP1", "SUB", "SWAP1", "SSTORE",  # allowance -= amount
        # move(from, to, amount): the shared tail of both transfers.
        Label("move"),  # [from, to, amount]
        "DUP1", *_slot_of(BALANCES_SLOT),  # [fslot, from, to, amount]
        "DUP1", "SLOAD", "DUP5", "DUP2", "DUP2", "GT", Ref("revert"), "JUMPI",  # amount > balance
        "SWAP1", "SUB", "SWAP1", "SSTORE",  # balance[from] -= amount (zero clears the slot)
        "DUP2", *_slot_of(BALANCES_SLOT),  # [tslot, from, to, amount]
        "DUP1", "SLOAD", "DUP5", "ADD", "SWAP1", "SSTORE",  # balance[to] += amount
        "DUP3", 0, "MSTORE", "DUP2", "DUP2", Push(TRANSFER_TOPIC, 32), 32, 0, "LOG3",
        *_RETURN_TRUE,
        # approve(spender, amount)
        Label("approve"), "POP",
        "CALLER", *_slot_of(ALLOWANCES_SLOT), 4, "CALLDATALOAD", *_slot_of_top_as_base(),
        36, "CALLDATALOAD", "SWAP1", "SSTORE",
        36, "CALLDATALOAD", 0, "MSTORE", 4, "CALLDATALOAD", "CALLER", Push(APPROVAL_TOPIC, 32), 32, 0, "LOG3",
        *_RETURN_TRUE,
        *_REVERT,
    ]  # fmt: skip


def _call_token(selector: int, arguments: list[list[Item]], token_dup: str) -> list[Item]:
    """Call a token with ``selector(arguments...)`` and revert unless it returned true.

    Each argument is code pushing one word (run with the stack as on entry);
    ``token_dup`` fetches the token's address once the CALL's five fixed
    operands are pushed. Memory 0..32 holds the return value afterwards.
    """
    stores: list[Item] = []
    for position, argument in enumerate(arguments):
        stores += [*argument, 4 + 32 * position, "MSTORE"]
    return [
        Push(selector, 4), 0xE0, "SHL", 0, "MSTORE", *stores,
        32, 0, 4 + 32 * len(arguments), 0, 0, token_dup, "GAS", "CALL",
        0, "MLOAD", "AND", "ISZERO", Ref("revert"), "JUMPI",
    ]  # fmt: skip


def _pair_runtime_program(token0: bytes, token1: bytes) -> list[Item]:
    t0, t1 = Push(int.from_bytes(token0, "big"), 20), Push(int.from_bytes(token1, "big"), 20)
    return [
        *_dispatch({SWAP: "swap"}),
        Label("swap"), "POP",
        36, "CALLDATALOAD", Ref("one_for_zero"), "JUMPI",
        RESERVE1_SLOT, RESERVE0_SLOT, t1, t0, Ref("go"), "JUMP",  # [tin, tout, sin, sout]
        Label("one_for_zero"),
        RESERVE0_SLOT, RESERVE1_SLOT, t0, t1,
        Label("go"),
        4, "CALLDATALOAD",  # [ain, tin, tout, sin, sout]
        # aout = rout * ain * 997 / (rin * 1000 + ain * 997), as swap_output
        "DUP5", "SLOAD", "DUP2", FEE_NUMERATOR, "MUL", "SWAP1", "DUP2", "MUL", "SWAP1",  # [a997, num, ain..]
        "DUP6", "SLOAD", FEE_DENOMINATOR, "MUL", "ADD", "SWAP1", "DIV",  # [aout, ain, tin, tout, sin, sout]
        # pull the input: tin.transferFrom(caller, this, ain)
        *_call_token(TRANSFER_FROM, [["CALLER"], ["ADDRESS"], ["DUP2"]], "DUP8"),
        # pay the output: tout.transfer(caller, aout)
        *_call_token(TRANSFER, [["CALLER"], ["DUP1"]], "DUP9"),
        "DUP6", "SLOAD", "SUB", "DUP6", "SSTORE",  # reserve_out -= aout
        "DUP4", "SLOAD", "ADD", "DUP4", "SSTORE",  # reserve_in += ain
        "STOP",
        *_REVERT,
    ]  # fmt: skip


_STORE_PROGRAM: list[Item] = [
    "CALLER", 0, "MSTORE", 0, "CALLDATALOAD", 32, "MSTORE", 64, 0, "SHA3",  # keccak(caller ++ key)
    32, "CALLDATALOAD", "SWAP1", "SSTORE",
    "STOP",
]  # fmt: skip


def _deployer(runtime: bytes, constructor: list[Item]) -> bytes:
    """Initcode: run ``constructor``, then return ``runtime`` (appended after the copying code)."""
    copier: list[Item] = [Push(len(runtime), 2), "DUP1", Push(0, 2), 0, "CODECOPY", 0, "RETURN"]
    prefix = assemble([*constructor, *copier])
    copier[2] = Push(len(prefix), 2)
    return assemble([*constructor, *copier]) + runtime


TOKEN_RUNTIME = assemble(_token_runtime_program())
STORE_RUNTIME = assemble(_STORE_PROGRAM)


def pair_runtime(token0: bytes, token1: bytes) -> bytes:
    return assemble(_pair_runtime_program(token0, token1))


def token_initcode(supply: int) -> bytes:
    """A new token whose creator holds all of ``supply``."""
    return _deployer(TOKEN_RUNTIME, [Push(supply, 32), "CALLER", *_slot_of(BALANCES_SLOT), "SSTORE"])


STORE_INITCODE = _deployer(STORE_RUNTIME, [])
