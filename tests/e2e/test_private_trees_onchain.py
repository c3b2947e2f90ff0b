"""A tree ensemble with private thresholds and leaf weights on a chain (Anvil), with the
real prover: the hub registers the weights commitment; an honest proof of a request is
accepted; a proof made with one other leaf weight or one other threshold is rejected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import circuits
from circuits import Visibility, compile_model, setup
from circuits.groth16.backend import backend_for
from oracle import chain as chains
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.hub import Hub, deploy_model
from tests.circuits.onnx.private_models import forest

pytestmark = pytest.mark.anvil
X = [0.5, -0.25, 1.0, -1.5]


@dataclass
class Scene:
    chain: Chain
    hub: Hub
    model_id: bytes
    model_dir: Path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("trees")
    path = root / "forest.onnx"
    path.write_bytes(forest().SerializeToString())
    compile_model(path, root / "m", visibility=Visibility("private"))
    setup(root / "m")
    with chains.connect("anvil", signer=None) as chain:
        dep = deploy_model(chain, root / "m")
        yield Scene(chain, Hub(chain, dep.hub), dep.model_id, root / "m")


def _request(s: Scene) -> tuple[int, int, str]:
    """(request id, binding, submitter) of a fresh request."""
    rid = s.hub.request(s.model_id, X, fee=10**15, sender=s.chain.accounts[1]).request_id
    submitter = s.chain.accounts[2]
    return rid, s.hub.request_binding(rid, submitter), submitter


def test_an_honest_proof_is_accepted(scene: Scene) -> None:
    m = scene.hub.model(scene.model_id)
    manifest = circuits.load_model_dir(scene.model_dir).manifest
    assert m is not None and m["weights_commitment"] == manifest.weights_commitment
    rid, binding, submitter = _request(scene)
    res = circuits.prove(scene.model_dir, {"X": np.array([X])}, binding=binding)
    outputs = manifest.layout.chain_outputs(res.public)
    scene.hub.fulfill(rid, outputs, res.proof, sender=submitter)
    assert scene.hub.result(rid)["outputs"] == outputs


@pytest.mark.parametrize("which", ["leaf_weights", "thresholds[1]"])
def test_other_weights_are_rejected_on_chain(scene: Scene, which: str) -> None:
    rid, binding, submitter = _request(scene)
    loaded = circuits.load_model_dir(scene.model_dir)
    c = loaded.compiled
    other = {t.name: list(t.values) for t in c.private_weights}
    name = next(n for n in other if n.endswith(which))
    other[name][-1] -= 1  # the largest cut point one step lower stays sorted
    w = c.witness({"X": np.array([X])}, binding, salts=loaded.salts(), weights=other)
    proof = backend_for(scene.model_dir).prove(scene.model_dir, w, cs=c.circuit.cs)
    with pytest.raises(TransactionReverted) as info:
        scene.hub.fulfill(
            rid, c.layout.chain_outputs(w.public), proof, sender=submitter, gas=2_000_000
        )
    assert info.value.error_name == "InvalidProof"
