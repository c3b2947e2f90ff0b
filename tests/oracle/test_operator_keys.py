"""The OperatorKeys registry on the embedded chain and on Anvil: publish, read, refuse a
point off the curve, republish only on change; a request sealed to another operator key
is refused naming both keys; the daemon's start publishes its key once."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from coincurve import PrivateKey

from circuits import Packing
from oracle import chain as chains
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.operator_keys import (
    OperatorKeyError,
    OperatorKeys,
    compressed,
    coordinates,
    publish_at_start,
)
from oracle.private_inputs import PrivateInputError, open_sealed, recipient_of, seal

P = 2**256 - 2**32 - 977
MODEL = bytes(range(32))


@pytest.fixture(scope="module", params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    with chains.connect(request.param, signer=None) as c:
        yield c


def _packing() -> Packing:
    return Packing(16, 2)


def _key() -> PrivateKey:
    return PrivateKey(os.urandom(32))


def test_publish_read_and_republish_only_on_change(chain: Chain) -> None:
    keys = OperatorKeys.deploy(chain)
    op = chain.accounts[3]
    with pytest.raises(OperatorKeyError, match=f"operator {op} has published no encryption key"):
        keys.key_of(op)
    first = _key().public_key.format(compressed=True)
    sent = keys.publish(first, sender=op)
    (log,) = keys.contract.events.EncryptionKeyPublished().process_receipt(sent.receipt)
    assert log["args"]["operator"] == op and log["args"]["version"] == 1
    got = keys.key_of(op)
    assert got.public_key == first and got.version == 1 and got.updated_at > 0
    again = keys.publish(first, sender=op)  # the same key: no change, no event
    assert not keys.contract.events.EncryptionKeyPublished().process_receipt(again.receipt)
    second = _key().public_key
    keys.publish(second.format(compressed=False), sender=op)
    got = keys.key_of(op)
    assert got.public_key == second.format(compressed=True) and got.version == 2


def test_points_off_the_curve_are_refused(chain: Chain) -> None:
    keys = OperatorKeys.deploy(chain)
    pub = _key().public_key
    x, y = coordinates(pub.format())
    assert compressed(x, y) == pub.format(compressed=True)
    assert keys.contract.functions.isOnCurve(x, y).call()
    assert keys.contract.functions.isOnCurve(x, P - y).call()  # -pub
    for bad in [(x, (y + 1) % P), (0, 0), (x, P), (P, y), (0, 7)]:
        with pytest.raises(TransactionReverted) as info:
            chain.transact(keys.contract.functions.publish(*bad), gas=200_000)
        assert info.value.error_name == "InvalidPublicKey"
    with pytest.raises(OperatorKeyError, match="not a secp256k1 public key"):
        keys.publish(b"\x02" + b"\xff" * 32)


def test_a_request_sealed_to_another_key_is_refused_naming_both(chain: Chain) -> None:
    keys = OperatorKeys.deploy(chain)
    operator, stranger = Signer.from_key(os.urandom(32)), Signer.from_key(os.urandom(32))
    keys.publish(stranger.encryption_public_key, sender=chain.accounts[1])
    published = keys.key_of(chain.accounts[1]).public_key  # the requester read a wrong key
    sealed = seal(published, MODEL, [1, 2], 7)
    assert recipient_of(sealed) == stranger.encryption_public_key
    own = operator.encryption_public_key
    with pytest.raises(PrivateInputError, match=f"sealed to operator key 0x{published.hex()}"):
        open_sealed(operator.decrypt, sealed, model_id=MODEL, packing=_packing(),
                    n_inputs=2, commitment=0, own_key=own)  # fmt: skip
    with pytest.raises(PrivateInputError, match="does not decrypt") as info:
        open_sealed(operator.decrypt, sealed, model_id=MODEL, packing=_packing(),
                    n_inputs=2, commitment=0)  # fmt: skip
    assert info.value.code == "undecryptable"


def test_the_daemon_start_publishes_once(chain: Chain) -> None:
    keys = OperatorKeys.deploy(chain)
    operator = Signer.from_key(os.urandom(32))
    chain.fund(operator.address, 10**18)
    with_signer = Chain(chain.w3, kind=chain.kind, signer=operator)
    assert publish_at_start(with_signer, chain.kind, keys.address, operator) is not None
    assert keys.key_of(operator.address).public_key == operator.encryption_public_key
    assert publish_at_start(chain.w3, chain.kind, keys.address, operator) is None
