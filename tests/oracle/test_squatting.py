"""The model-id squatting exploit, step by step, against a real model on Anvil.

Before ids were namespaced, an attacker who read the operator's model directory (the
default id was derived from public files) registered that id first with a verifier that
accepts everything and the honest hashes copied, then answered a vault's request with
outputs of its choice and took the fee; the operator's own deploy then failed. Every step
of it now fails: the attacker's registration lands under the attacker's own id, the
operator's deploy goes through, the vault pins the operator's model, the attacker can
neither fulfill the vault's request nor feed the vault through its own model, and the
operator's real proof is what the vault applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from circuits import prove
from oracle import chain as chains
from oracle.anvil import AnvilNode
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.hub import (
    Hub,
    ModelArtifacts,
    deploy_contract,
    deploy_model,
    hub_contracts,
    model_id_of,
)
from tests.oracle.hub_harness import compiled
from tests.oracle.test_deploy import make_model

pytestmark = pytest.mark.anvil
FEATURES = [0.5, -0.25, 0.1, 0.9, -0.7, 0.3, 0.0, 0.2]
FEE = 10**15
LONG, SHORT = 1, 2


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model(tmp_path_factory.mktemp("squat"))


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    with AnvilNode() as node, chains.rpc(node.url, signer=None) as c:
        yield c


def _reverts(error: str, fn: object, chain: Chain, sender: str, **kw: int) -> None:
    with pytest.raises(TransactionReverted) as info:
        chain.transact(fn, sender=sender, gas=2_000_000, **kw)  # type: ignore[arg-type]
    assert info.value.error_name == error, info.value


def test_the_squatting_exploit_fails_at_every_step(chain: Chain, model_dir: Path) -> None:
    operator, keeper, attacker = chain.accounts[0], chain.accounts[1], chain.accounts[3]
    art = ModelArtifacts.load(model_dir)
    hub = Hub.deploy(chain, sender=operator)
    # 1. The attacker registers the operator's salt, honest hashes copied, accept-all verifier.
    accept_all, _ = deploy_contract(chain, compiled()["AcceptAllVerifier"], sender=attacker)
    squat = hub.register_model(art, accept_all, salt=art.default_salt(), sender=attacker)
    assert squat.model_id == model_id_of(attacker, art.default_salt())
    assert squat.model_id != art.model_id(operator)
    # 2. The operator's deploy afterwards goes through, under the operator's own id.
    dep = deploy_model(chain, model_dir, hub, sender=operator)
    assert dep.model_id == art.model_id(operator) and dep.transactions
    honest = hub.model(dep.model_id)
    assert honest is not None and honest["owner"] == operator
    # 3. A vault pins the operator's model; pinning the squatted id with that owner fails.
    vault_code = hub_contracts()["SignalVault"]
    tail = (b"\x00" * 32, "0x" + "00" * 20, 1, -1, 3600, 200_000)
    with pytest.raises(TransactionReverted, match="UntrustedModel"):
        deploy_contract(
            chain, vault_code, hub.address, operator, squat.model_id,
            honest["verifier_code_hash"], *tail, sender=keeper,
        )  # fmt: skip
    pins = (operator, dep.model_id, honest["verifier_code_hash"])
    address, _ = deploy_contract(chain, vault_code, hub.address, *pins, *tail, sender=keeper)
    vault = chain.contract(address, vault_code)
    inputs = hub.quantize_inputs(dep.model_id, FEATURES)
    chain.transact(vault.functions.requestSignal(inputs), value=FEE, sender=keeper)
    rid = hub.contract.functions.requestCount().call()
    # 4. The attacker cannot answer the vault's request: the operator's verifier checks it,
    # with a made-up proof or with a real proof of other outputs.
    _reverts("InvalidProof", hub.contract.functions.fulfill(rid, [10**6], [1] * 8), chain, attacker)
    real = prove(model_dir, {"x": [FEATURES]}, binding=hub.request_binding(rid, attacker))
    lie = [v + 1 for v in art.quantized_outputs(real.public)]
    fn = hub.contract.functions.fulfill(rid, lie, list(real.proof.words()))
    _reverts("InvalidProof", fn, chain, attacker)
    # 5. Through its own model the attacker reaches the vault's callback, which refuses it.
    own = hub.request(squat.model_id, inputs, callback=vault.address, gas_limit=200_000,
                      sender=attacker)  # fmt: skip
    done = hub.fulfill(own.request_id, [10**6], [1] * 8, sender=attacker)
    assert done.callback_failure is not None
    assert chain.errors.decode(done.callback_failure["reason"])[0] == "NotOurRequest"
    assert vault.functions.signalAt().call() == 0
    # 6. The operator's real proof is what the vault applies.
    result = prove(model_dir, {"x": [FEATURES]}, binding=hub.request_binding(rid, operator))
    outputs = art.quantized_outputs(result.public)
    done = hub.fulfill(rid, outputs, result.proof, sender=operator)
    assert done.callback_failure is None and done.event["outputs"] == outputs
    assert vault.functions.signal().call() == outputs[0]
