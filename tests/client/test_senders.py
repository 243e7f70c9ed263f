"""client.senders: the batched sender recovery agrees with py-evm's on every transaction type.

Each transaction is built with py-evm's builder from arbitrary fields and an
arbitrary signature, then decoded from its encoding (as a block's
transactions are). Where the fast path gives a sender it must be py-evm's;
where py-evm raises, the fast path must leave the transaction to it.
"""

from __future__ import annotations

from typing import Any

from eth.vm.forks.prague.transactions import Authorization
from eth_keys.constants import SECPK1_N
from hypothesis import given, settings
from hypothesis import strategies as st
from signed_transactions import BUILDER, KEY, signed_legacy_and_dynamic

from client.senders import fast_sender, recover_senders

uint = st.integers(min_value=0, max_value=2**64)
address = st.binary(min_size=20, max_size=20)
# Signature values around every edge the recovery checks: 0, the group order, 2**256 - 1.
scalar = st.one_of(
    st.integers(min_value=1, max_value=SECPK1_N - 1),
    st.sampled_from([0, 1, SECPK1_N - 1, SECPK1_N, SECPK1_N + 1, 2**256 - 1]),
)
parity = st.integers(min_value=0, max_value=3)
access_list = st.lists(st.tuples(address, st.lists(st.integers(0, 2**256 - 1), max_size=3)), max_size=3)


def _typed(kind: str, fields: dict[str, Any], y: int, r: int, s: int) -> Any:
    common = {
        "chain_id": fields["chain_id"],
        "nonce": fields["nonce"],
        "gas": fields["gas"],
        "to": fields["to"],
        "value": fields["value"],
        "data": fields["data"],
        "access_list": fields["access_list"],
        "y_parity": y,
        "r": r,
        "s": s,
    }
    fees = {"max_priority_fee_per_gas": fields["tip"], "max_fee_per_gas": fields["fee"]}
    if kind == "access_list":
        return BUILDER.new_access_list_transaction(gas_price=fields["fee"], **common)
    if kind == "dynamic":
        return BUILDER.new_dynamic_fee_transaction(**fees, **common)
    if kind == "blob":
        return BUILDER.new_blob_transaction(
            **fees, **common, max_fee_per_blob_gas=fields["fee"], blob_versioned_hashes=[b"\x01" * 32]
        )
    authorization = Authorization(fields["chain_id"], fields["to"], fields["nonce"], 1, 2, 3)
    return BUILDER.new_set_code_transaction(**fees, **common, authorization_list=[authorization])


def _decoded(transaction: Any) -> Any:
    return BUILDER.decode(transaction.encode())


def _py_evm_sender(transaction: Any) -> bytes | Exception:
    try:
        return bytes(transaction.get_sender())
    except Exception as exc:  # py-evm raises several types here; which one does not matter
        return exc


fields = st.fixed_dictionaries(
    {
        "chain_id": uint,
        "nonce": uint,
        "gas": uint,
        "to": address,
        "value": uint,
        "data": st.binary(max_size=80),
        "access_list": access_list,
        "tip": uint,
        "fee": uint,
    }
)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["access_list", "dynamic", "blob", "set_code"]),
    fields=fields,
    y=parity,
    r=scalar,
    s=scalar,
)
def test_typed_sender_is_py_evms_or_left_to_it(
    kind: str, fields: dict[str, Any], y: int, r: int, s: int
) -> None:
    transaction = _decoded(_typed(kind, fields, y, r, s))
    expected = _py_evm_sender(transaction)
    fast = fast_sender(transaction)
    if isinstance(expected, Exception):
        assert fast is None
    elif y in (0, 1):
        assert fast == expected
    else:
        assert fast is None


@settings(max_examples=150, deadline=None)
@given(
    fields=fields,
    v=st.one_of(st.integers(min_value=0, max_value=80), st.integers(min_value=35, max_value=2**70)),
    r=scalar,
    s=scalar,
)
def test_legacy_sender_is_py_evms_or_left_to_it(fields: dict[str, Any], v: int, r: int, s: int) -> None:
    transaction = _decoded(
        BUILDER.new_transaction(
            nonce=fields["nonce"],
            gas_price=fields["fee"],
            gas=fields["gas"],
            to=fields["to"],
            value=fields["value"],
            data=fields["data"],
            v=v,
            r=r,
            s=s,
        )
    )
    expected = _py_evm_sender(transaction)
    fast = fast_sender(transaction)
    if isinstance(expected, Exception):
        assert fast is None
    elif fast is not None:
        assert fast == expected
    if v in (27, 28) or v >= 35:
        assert (fast is None) == isinstance(expected, Exception)


@given(chain_id=st.one_of(st.none(), st.integers(min_value=0, max_value=2**40)), nonce=uint)
@settings(max_examples=40, deadline=None)
def test_signed_transactions_take_the_fast_path(chain_id: int | None, nonce: int) -> None:
    """Transactions signed by a real key: every one is recovered by the fast path, to the signer."""
    signer = KEY.public_key.to_canonical_address()
    for transaction in signed_legacy_and_dynamic(chain_id=chain_id, nonce=nonce):
        assert fast_sender(transaction) == signer
        recover_senders([transaction])
        assert transaction.__dict__["sender"] == signer
        assert transaction.sender == signer
