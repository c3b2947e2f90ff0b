"""Claims and private outputs on a chain (Anvil), with the real prover: the hub stores a
claim's (threshold, result) or the output commitment, and a forged result is rejected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import circuits
from circuits import Claim, Segment, Visibility, commit, compile_model, setup
from circuits.onnx.examples import mlp, save
from oracle import chain as chains
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.hub import Hub, deploy_model

pytestmark = pytest.mark.anvil
X = [0.5, -0.25, 0.1, 0.9]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("claims")
    onnx_path = save(mlp((4, 5, 1), seed=4), root / "m.onnx")
    modes = {
        "claim": Visibility(claim=Claim.parse("y[0] < 0.5")),
        "hidden": Visibility(outputs="private"),
    }
    for name, vis in modes.items():
        compile_model(onnx_path, root / name, visibility=vis)
        setup(root / name)
    return {name: root / name for name in modes}


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    with chains.connect("anvil", signer=None) as c:
        yield c


def _answer(chain: Chain, model_dir: Path, hub: str | None = None) -> tuple[Hub, int, list[int]]:
    dep = deploy_model(chain, model_dir, hub)
    h = Hub(chain, dep.hub)
    rid = h.request(dep.model_id, X).request_id
    res = circuits.prove(model_dir, {"x": np.array([X])}, h.request_binding(rid, chain.sender))
    layout = circuits.load_model_dir(model_dir).manifest.layout
    outputs = layout.chain_outputs(res.public)
    h.fulfill(rid, outputs, res.proof)
    return h, rid, outputs


def test_a_claim_is_stored_as_threshold_and_result(chain: Chain, dirs: dict[str, Path]) -> None:
    hub, rid, outputs = _answer(chain, dirs["claim"])
    assert hub.result(rid)["outputs"] == outputs
    threshold, holds = outputs
    assert threshold == round(0.5 * 2**16) and holds in (0, 1)
    # The opposite result with the same proof: rejected.
    dep_model = hub.contract.functions.getRequest(rid).call()[0]
    rid2 = hub.request(bytes(dep_model), X).request_id
    res = circuits.prove(
        dirs["claim"], {"x": np.array([X])}, hub.request_binding(rid2, chain.sender)
    )
    with pytest.raises(TransactionReverted) as info:
        hub.fulfill(rid2, [threshold, 1 - holds], res.proof, gas=1_000_000)
    assert info.value.error_name == "InvalidProof"


def test_private_outputs_are_stored_as_their_commitment(
    chain: Chain, dirs: dict[str, Path]
) -> None:
    model_dir = dirs["hidden"]
    dep = deploy_model(chain, model_dir)
    hub = Hub(chain, dep.hub)
    rid = hub.request(dep.model_id, X).request_id
    binding = hub.request_binding(rid, chain.sender)
    res = circuits.prove(model_dir, {"x": np.array([X])}, binding)
    (c,) = circuits.load_model_dir(model_dir).manifest.layout.chain_outputs(res.public)
    bits = circuits.load_model_dir(model_dir).compiled.config.output_bits
    assert c == commit([Segment("y", bits, tuple(res.quantized))], res.salts["outputs"])
    hub.fulfill(rid, [c], res.proof)
    assert hub.result(rid)["outputs"] == [c]
