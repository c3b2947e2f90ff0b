"""The whole pipeline on a chain: ONNX model -> circuit -> native keys -> verifier ->
deployed hub -> a consumer's request -> real proof -> fulfillment -> the consumer's state.

The model is the 8 -> 16 -> 1 MLP of `circuits.onnx.examples`; the consumer is
``RiskGatedLendingPool``. The proof is made for the binding the hub computes for this
request and this submitter. The Python verifier and the chain must agree on the valid
proof and on a tampered one (C negated: still on the curve, so the pairing check itself
must reject it).

On the embedded chain a pairing costs ~1.5 s of pure Python, so there the chain verifies
three times only: the tampered fulfillment (sent, then replayed to decode its error) and the
valid one. Anvil runs the rest of the cross-checks; Ganache gets one smoke run.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from web3.contract import Contract

from circuits import Proof, ProveResult, compile_model, prove, setup, verify
from circuits.field import Q
from circuits.onnx.examples import mlp, save
from oracle import chain as chains
from oracle import devnet
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.hub import (
    Deployment,
    Hub,
    ModelArtifacts,
    RequestStatus,
    compile_model_verifier,
    deploy_contract,
    deploy_model,
    hub_contracts,
)
from oracle.statement import StatementLayout, feed_binding, request_binding

FEATURES = [0.5, -0.25, 0.1, 0.9, -0.7, 0.3, 0.0, 0.2]
FEE = 10**15
#: Credit is refused from a score of 1.0 (scale 2^-16) up; 1 ether at a score <= 0.
REFUSE_AT, MAX_CREDIT, CALLBACK_GAS = 1 << 16, 10**18, 200_000


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipeline")
    compile_model(save(mlp((8, 16, 1), seed=0), root / "mlp.onnx"), root / "model")
    setup(root / "model", "arkworks")
    return root / "model"


@dataclass
class Scene:
    """A deployed model, a lending pool using it, and one pending score request."""

    chain: Chain
    dep: Deployment
    hub: Hub
    art: ModelArtifacts
    pool: Contract
    borrower: str
    submitter: str
    request_id: int
    proof: ProveResult


def _scene(chain: Chain, model_dir: Path) -> Scene:
    dep = deploy_model(chain, model_dir)
    hub, art = Hub(chain, dep.hub), ModelArtifacts.load(model_dir)
    code = hub_contracts()["RiskGatedLendingPool"]
    registered = hub.model(dep.model_id)
    assert registered is not None
    pinned = (registered["owner"], dep.model_id, registered["verifier_code_hash"])
    pool_args = (dep.hub, *pinned, 3600, REFUSE_AT, MAX_CREDIT, CALLBACK_GAS)
    pool_address, _ = deploy_contract(chain, code, *pool_args, value=MAX_CREDIT)
    pool = chain.contract(pool_address, code)
    borrower, submitter = chain.accounts[1], chain.accounts[2]
    features = hub.quantize_inputs(dep.model_id, FEATURES)
    receipt = chain.transact(pool.functions.requestScore(features), value=FEE, sender=borrower)
    (event,) = hub.requested_in(receipt)
    assert event["inputs"] == features and event["callback"] == pool_address
    binding = hub.request_binding(event["request_id"], submitter)
    assert binding == request_binding(chain.chain_id, dep.hub, event["request_id"], submitter)
    result = prove(model_dir, {"x": [FEATURES]}, binding=binding)
    return Scene(chain, dep, hub, art, pool, borrower, submitter, event["request_id"], result)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("embedded", marks=pytest.mark.slow),
        pytest.param("anvil", marks=pytest.mark.anvil),
    ],
)
def scene(request: pytest.FixtureRequest, model_dir: Path) -> Iterator[Scene]:
    with chains.connect(request.param, signer=None) as chain:
        yield _scene(chain, model_dir)


def _tampered(proof: Proof) -> Proof:
    """C negated: a point on the curve, a proof of nothing."""
    return Proof(proof.a, proof.b, (proof.c[0], (Q - proof.c[1]) % Q))


def test_the_statement_is_the_same_everywhere(scene: Scene) -> None:
    """Circuit (prover), Python (oracle.statement) and hub build the same public inputs."""
    outputs = scene.art.quantized_outputs(scene.proof.public)
    on_chain = scene.hub.request_public_inputs(scene.request_id, scene.submitter, outputs)
    features = scene.hub.quantize_inputs(scene.dep.model_id, FEATURES)
    binding = scene.proof.public[0]
    python = StatementLayout.of(scene.art.manifest.layout).public_inputs(binding, features, outputs)
    assert on_chain == scene.proof.public == python


def test_fulfillment_with_a_real_proof(scene: Scene) -> None:
    hub, proof, rid = scene.hub, scene.proof, scene.request_id
    outputs = scene.art.quantized_outputs(proof.public)
    bad = _tampered(proof.proof)
    assert verify(scene.art.dir, proof.public, proof.proof)
    assert not verify(scene.art.dir, proof.public, bad)

    with pytest.raises(TransactionReverted) as info:
        hub.fulfill(rid, outputs, bad, sender=scene.submitter)
    assert info.value.error_name == "InvalidProof" and info.value.tx_hash is not None
    assert hub.result(rid)["status"] == RequestStatus.PENDING

    before = scene.chain.w3.eth.get_balance(scene.submitter)  # type: ignore[arg-type]
    done = hub.fulfill(rid, outputs, proof.proof, sender=scene.submitter)
    assert done.callback_failure is None
    assert done.event["outputs"] == outputs and done.event["submitter"] == scene.submitter
    assert hub.result(rid) == {"status": RequestStatus.FULFILLED, "outputs": outputs}
    receipt = done.tx.receipt
    paid = int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    after = scene.chain.w3.eth.get_balance(scene.submitter)  # type: ignore[arg-type]
    assert after == before + FEE - paid

    # The consumer saw the proven score.
    (score,) = outputs
    limit, scored_at = scene.chain.call(scene.pool.functions.profiles(scene.borrower))
    assert limit == scene.chain.call(scene.pool.functions.creditLimitFor(score)) and scored_at > 0
    assert scene.chain.call(scene.pool.functions.pendingBorrower(rid)) == "0x" + "00" * 20
    # ... and it is the model's output as onnxruntime computes it, up to quantization.
    session = onnxruntime.InferenceSession(str(scene.art.dir / "model.onnx"))
    (reference,) = session.run(None, {"x": np.array([FEATURES], dtype=np.float32)})
    assert abs(score / 2**16 - float(reference.reshape(-1)[0])) < 1e-3


@pytest.mark.anvil
@pytest.mark.parametrize("scene", [pytest.param("anvil", marks=pytest.mark.anvil)], indirect=True)
def test_chain_and_python_verifiers_agree(scene: Scene) -> None:
    """The deployed verifier called directly, and the hub's refusals of a valid proof used
    wrongly: other outputs, another submitter, a second fulfillment."""
    chain, hub, art = scene.chain, scene.hub, scene.art
    _, verifier = compile_model_verifier(art)
    v = chain.contract(scene.dep.verifier, verifier)
    proof, public = scene.proof.proof, scene.proof.public
    other_public = [*public[:-1], public[-1] + 1]
    chain.call(v.functions.verifyProof(list(proof.words()), public))
    for words, inputs, python in (
        (_tampered(proof).words(), public, verify(art.dir, public, _tampered(proof))),
        (proof.words(), other_public, verify(art.dir, other_public, proof)),
    ):
        assert python is False
        with pytest.raises(TransactionReverted) as info:
            chain.call(v.functions.verifyProof(list(words), inputs))
        assert info.value.error_name == "ProofInvalid"

    # A new request of the pool, and its valid proof misused.
    features = hub.quantize_inputs(scene.dep.model_id, FEATURES)
    receipt = chain.transact(scene.pool.functions.requestScore(features), sender=scene.borrower)
    (event,) = hub.requested_in(receipt)
    rid = event["request_id"]
    result = prove(art.dir, {"x": [FEATURES]}, binding=hub.request_binding(rid, scene.submitter))
    outputs = art.quantized_outputs(result.public)
    for wrong_outputs, sender in ([outputs[0] + 1], scene.submitter), (outputs, chain.accounts[3]):
        with pytest.raises(TransactionReverted) as info:
            hub.fulfill(rid, wrong_outputs, result.proof, sender=sender)
        assert info.value.error_name == "InvalidProof"
    hub.fulfill(rid, outputs, result.proof, sender=scene.submitter)
    with pytest.raises(TransactionReverted) as info:
        hub.fulfill(rid, outputs, result.proof, sender=scene.submitter)
    assert (info.value.error_name, info.value.error_args) == ("AlreadyFulfilled", (rid,))


@pytest.mark.anvil
def test_a_feed_round_with_a_real_proof(model_dir: Path) -> None:
    with chains.anvil(signer=None) as chain:
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        feed_id = b"\x42" * 32
        hub.create_feed(feed_id, dep.model_id)
        assert hub.latest(feed_id) == {"outputs": [], "round": 0, "updated_at": 0}
        binding = hub.feed_binding(feed_id, 1, chain.sender)
        assert binding == feed_binding(chain.chain_id, dep.hub, feed_id, 1, chain.sender)
        result = prove(model_dir, {"x": [FEATURES]}, binding=binding)
        art = ModelArtifacts.load(model_dir)
        inputs = hub.quantize_inputs(dep.model_id, FEATURES)
        outputs = art.quantized_outputs(result.public)
        hub.update_feed(feed_id, inputs, outputs, 1, result.proof)
        latest = hub.latest(feed_id)
        assert latest["outputs"] == outputs and latest["round"] == 1 and latest["updated_at"] > 0
        with pytest.raises(TransactionReverted) as info:  # a replay of the round
            hub.update_feed(feed_id, inputs, outputs, 2, result.proof)
        assert info.value.error_name == "InvalidProof"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.ganache
@pytest.mark.slow
def test_ganache_smoke(model_dir: Path) -> None:
    """Deploy and one valid fulfillment on Ganache 7 (started by the devnet script)."""
    port = _free_port()
    script = devnet.devnet_dir()
    start = subprocess.run(
        [str(script / "start-ganache.sh"), str(port)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    try:
        assert start.returncode == 0, start.stderr
        chain = chains.rpc(f"http://127.0.0.1:{port}", signer=None)
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        sent = hub.request(dep.model_id, FEATURES, fee=FEE, sender=chain.accounts[1])
        binding = hub.request_binding(sent.request_id, chain.sender)
        result = prove(model_dir, {"x": [FEATURES]}, binding=binding)
        outputs = ModelArtifacts.load(model_dir).quantized_outputs(result.public)
        hub.fulfill(sent.request_id, outputs, result.proof)  # explicit gas: no estimate
        assert hub.result(sent.request_id) == {
            "status": RequestStatus.FULFILLED,
            "outputs": outputs,
        }
    finally:
        subprocess.run(
            [str(script / "stop-ganache.sh"), str(port)], capture_output=True, timeout=30
        )
