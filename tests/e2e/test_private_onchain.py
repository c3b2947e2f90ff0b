"""Private weights and private inputs on a chain (Anvil), with the real prover.

A credit-score MLP is compiled with its weights and inputs private: the hub stores the
weights commitment with the model and puts it last in every statement; a borrower asks
the lending pool for a score with ``requestScorePrivate``, posting the input commitment
and the features sealed to the operator; the operator decrypts, checks the commitment,
proves and fulfills, and the pool sets the credit limit from the verified score. A proof
made with other weights, or for inputs with another salt, is rejected on-chain; a public
request to this model is refused; a ciphertext for another key or that does not match its
commitment fails with a named reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from circuits import Visibility, compile_model, input_commitment, new_salt, setup
from circuits.groth16.backend import backend_for
from circuits.model_store import load_model_dir
from circuits.onnx.examples import mlp, save
from oracle import chain as chains
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.daemon.provers import ProofTask, prove_task
from oracle.errors import TransactionReverted
from oracle.hub import Hub, RequestEvent, deploy_contract, deploy_model, hub_contracts
from oracle.private_inputs import PrivateInputError, open_sealed, seal, send_private_request
from oracle.statement import request_binding

FEATURES = [0.5, -0.25, 0.1, 0.9, -0.7, 0.3, 0.0, 0.2]
FEE = 10**15
REFUSE_AT, MAX_CREDIT, CALLBACK_GAS = 1 << 16, 10**18, 200_000

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("private")
    vis = Visibility("private", "private", "public")
    compile_model(save(mlp((8, 16, 1), seed=3), root / "score.onnx"), root / "m", visibility=vis)
    setup(root / "m", "arkworks")
    return root / "m"


@dataclass
class Scene:
    chain: Chain
    hub: Hub
    daemon_hub: Hub
    model_id: bytes
    model_dir: Path
    pool: Contract
    operator: Signer
    borrower: str
    submitter: str


@pytest.fixture(scope="module")
def scene(model_dir: Path) -> Iterator[Scene]:
    with chains.connect("anvil", signer=None) as chain:
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        code = hub_contracts()["RiskGatedLendingPool"]
        model = hub.model(dep.model_id)
        assert model is not None
        pins = (model["owner"], dep.model_id, model["verifier_code_hash"])
        args = (dep.hub, *pins, 3600, REFUSE_AT, MAX_CREDIT, CALLBACK_GAS)
        pool_address, _ = deploy_contract(chain, code, *args, value=MAX_CREDIT)
        yield Scene(
            chain,
            hub,
            Hub(chain.w3, dep.hub),
            dep.model_id,
            model_dir,
            chain.contract(pool_address, code),
            Signer.from_key(os.urandom(32)),
            chain.accounts[1],
            chain.accounts[2],
        )


def _features(s: Scene) -> list[int]:
    return s.hub.quantize_inputs(s.model_id, FEATURES)


def _bits(s: Scene) -> int:
    return load_model_dir(s.model_dir).compiled.config.input_bits


def _private_request(s: Scene) -> int:
    """A borrower's sealed request through the pool; its id."""
    salt = new_salt()
    commitment = input_commitment(_features(s), _bits(s), salt)
    sealed = seal(s.operator.encryption_public_key, s.model_id, _features(s), salt)
    fn = s.pool.functions.requestScorePrivate(commitment, sealed)
    receipt = s.chain.transact(fn, value=FEE, sender=s.borrower)
    event = s.hub.contract.events.PrivateInferenceRequested()
    (log,) = event.process_receipt(receipt, errors=DISCARD)
    return int(log["args"]["requestId"])


def _operator_task(s: Scene, request_id: int) -> ProofTask:
    """What the daemon does with a sealed request: find its log, open it, make the task."""
    head = s.chain.w3.eth.block_number
    logs = s.daemon_hub.request_logs(0, head)
    (event,) = [e for e in logs if isinstance(e, RequestEvent) and e.request_id == request_id]
    assert event.ciphertext is not None and event.input_commitment is not None
    lay = load_model_dir(s.model_dir).manifest.layout
    opened = open_sealed(
        s.operator.decrypt, event.ciphertext, model_id=s.model_id, packing=lay.inputs,
        n_inputs=lay.n_inputs, commitment=event.input_commitment,
    )  # fmt: skip
    binding = request_binding(s.chain.chain_id, s.hub.address, request_id, s.submitter)
    return ProofTask(
        1, str(s.model_dir), opened.inputs, binding, (("inputs", opened.salt),),
        event.input_commitment,
    )  # fmt: skip


def test_the_registry_holds_the_weights_commitment(scene: Scene) -> None:
    m = scene.hub.model(scene.model_id)
    manifest = load_model_dir(scene.model_dir).manifest
    assert m is not None and m["weights_commitment"] == manifest.weights_commitment
    assert m["privacy"] == 1 | 4 and m["n_public"] == 4


def test_a_sealed_request_is_opened_proved_and_pays_out(scene: Scene) -> None:
    rid = _private_request(scene)
    result = prove_task(_operator_task(scene, rid))
    scene.hub.fulfill(rid, list(result.outputs), list(result.proof_words), sender=scene.submitter)
    assert scene.hub.result(rid)["outputs"] == list(result.outputs)
    limit, scored_at = scene.pool.functions.profiles(scene.borrower).call()
    assert scored_at > 0
    assert limit == scene.pool.functions.creditLimitFor(result.outputs[0]).call()


def test_other_weights_or_another_salt_are_rejected_on_chain(scene: Scene) -> None:
    rid = _private_request(scene)
    task = _operator_task(scene, rid)
    loaded = load_model_dir(scene.model_dir)
    c = loaded.compiled
    feed = {"x": np.asarray(task.inputs, dtype=np.float64).reshape(1, 8) / 2.0 ** c.inputs[0].scale}
    other = {t.name: list(t.values) for t in c.private_weights}
    other["fc1.B"][0] += 1
    cases = [
        {"weights": other, "salts": loaded.salts(dict(task.salts))},
        {"salts": loaded.salts({"inputs": task.salts[0][1] ^ 1})},
    ]
    for case in cases:
        w = c.witness(feed, task.binding, check=False, **case)  # type: ignore[arg-type]
        proof = backend_for(scene.model_dir).prove(scene.model_dir, w, cs=c.circuit.cs)
        outputs = c.layout.chain_outputs(w.public)
        with pytest.raises(TransactionReverted) as info:
            scene.hub.fulfill(rid, outputs, proof, sender=scene.submitter, gas=2_000_000)
        assert info.value.error_name == "InvalidProof"


def test_a_public_request_to_a_private_input_model_is_refused(scene: Scene) -> None:
    with pytest.raises(TransactionReverted) as info:
        scene.hub.request(scene.model_id, _features(scene), fee=FEE, gas=500_000)
    assert info.value.error_name == "WrongInputPrivacy"


def test_bad_ciphertexts_fail_with_their_reason(scene: Scene) -> None:
    stranger = Signer.from_key(os.urandom(32))  # a requester sealing to the wrong key
    sent = send_private_request(
        scene.hub, scene.model_id, _features(scene), stranger.encryption_public_key,
        bits=_bits(scene), fee=FEE, sender=scene.borrower,
    )  # fmt: skip
    rid = sent.request_id
    with pytest.raises(PrivateInputError, match="does not decrypt") as info:
        _operator_task(scene, rid)
    assert info.value.code == "undecryptable"
    lay = load_model_dir(scene.model_dir).manifest.layout
    sealed = seal(scene.operator.encryption_public_key, scene.model_id, _features(scene), 5)
    with pytest.raises(PrivateInputError, match="do not hash to") as info:
        open_sealed(
            scene.operator.decrypt, sealed, model_id=scene.model_id, packing=lay.inputs,
            n_inputs=lay.n_inputs, commitment=12345,
        )  # fmt: skip
    assert info.value.code == "commitment_mismatch"
