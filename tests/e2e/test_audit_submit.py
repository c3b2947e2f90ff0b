"""`zkoracle audit` and `zkoracle submit` against models deployed on Anvil.

The audit passes for an honest registration and catches one changed weight, one changed
quantization setting, one changed verifier byte, and (private weights) an opening that
does not match the registered commitment. `submit` lets a user prove a request on their
own machine and fulfill it from their own account.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from eth_utils.crypto import keccak
from web3 import Web3

import circuits
from circuits import Visibility, compile_model, setup
from circuits.groth16.backend import backend_for
from circuits.onnx.examples import mlp, save
from oracle import chain as chains
from oracle.chain import Chain
from oracle.cli import main
from oracle.errors import TransactionReverted
from oracle.hub import Hub, ModelArtifacts, deploy_model

pytestmark = pytest.mark.anvil


@dataclass
class Scene:
    chain: Chain
    url: str
    hub: Hub
    public_dir: Path
    public_id: bytes
    private_dir: Path
    private_id: bytes
    root: Path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("audit")
    onnx_path = save(mlp((4, 6, 1), seed=2), root / "m.onnx")
    compile_model(onnx_path, root / "pub")
    compile_model(onnx_path, root / "priv", visibility=Visibility("private"))
    for d in ("pub", "priv"):
        setup(root / d)
    with chains.connect("anvil", signer=None) as chain:
        assert chain._node is not None
        dep = deploy_model(chain, root / "pub")
        dep2 = deploy_model(chain, root / "priv", dep.hub)
        yield Scene(chain, chain._node.url, Hub(chain, dep.hub), root / "pub", dep.model_id,
                    root / "priv", dep2.model_id, root)  # fmt: skip


def _audit(s: Scene, model_id: bytes, d: Path, *extra: str) -> int:
    args = ["audit", "--rpc", s.url, "--hub", s.hub.address, "--model-id", "0x" + model_id.hex()]
    return main([*args, "--dir", str(d), *extra])


def _failed(out: str) -> set[str]:
    return {line.split("  ")[0] for line in out.splitlines() if line.rstrip().endswith("FAIL")}


def test_an_honest_registration_passes(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    assert _audit(scene, scene.public_id, scene.public_dir) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "verifier code keccak256" in out


def test_one_changed_weight_is_caught(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    m = onnx.load(str(scene.public_dir / "model.onnx"))
    init = m.graph.initializer[0]
    arr = onnx.numpy_helper.to_array(init).copy()
    arr.flat[0] += np.float32(0.01)
    init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    changed = scene.root / "changed.onnx"
    onnx.save(m, str(changed))
    assert _audit(scene, scene.public_id, scene.public_dir, str(changed)) == 1
    assert _failed(capsys.readouterr().out) == {"onnx sha256 (file)", "r1cs sha256 (recompiled)"}


def test_one_quantization_setting_is_caught(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    d = scene.root / "requantized"
    shutil.copytree(scene.public_dir, d)
    doc = json.loads((d / "manifest.json").read_text())
    doc["quantization"]["weight_scale"] -= 1
    (d / "manifest.json").write_text(json.dumps(doc, indent=1) + "\n")
    assert _audit(scene, scene.public_id, d) == 1
    # The rendered verifier's header names the manifest hash, so its code differs too.
    expected = {"manifest sha256", "r1cs sha256 (recompiled)", "verifier code keccak256"}
    assert _failed(capsys.readouterr().out) == expected


def test_one_verifier_byte_is_caught(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    honest = scene.hub.model(scene.public_id)
    assert honest is not None
    runtime = bytearray(scene.chain.w3.eth.get_code(Web3.to_checksum_address(honest["verifier"])))
    runtime[-10] ^= 1  # a byte of the metadata hash: the code still runs
    n = len(runtime)
    init = bytes([0x61, n >> 8, n & 0xFF, 0x80, 0x61, 0, 13, 0x60, 0, 0x39, 0x60, 0, 0xF3])
    factory = scene.chain.w3.eth.contract(abi=[], bytecode=init + bytes(runtime))
    receipt = scene.chain.transact(factory.constructor(), gas=3_000_000)
    address = receipt["contractAddress"]
    assert address is not None
    registration = scene.hub.register_model(
        ModelArtifacts.load(scene.public_dir), address, name="tampered verifier"
    )
    model_id = registration.model_id
    assert _audit(scene, model_id, scene.public_dir) == 1
    assert _failed(capsys.readouterr().out) == {"verifier code keccak256"}


def test_private_weights_are_checked_against_their_opening(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    opening = scene.private_dir / "weights-opening.json"
    assert _audit(scene, scene.private_id, scene.private_dir, "--weights", str(opening)) == 0
    assert "opened weights commitment" in capsys.readouterr().out
    doc = json.loads(opening.read_text())
    doc["tensors"][0]["values"][0] += 1
    other = scene.root / "other-opening.json"
    other.write_text(json.dumps(doc))
    assert _audit(scene, scene.private_id, scene.private_dir, "--weights", str(other)) == 1
    assert _failed(capsys.readouterr().out) == {"opened weights commitment"}


def test_a_user_proves_and_submits_a_request_themselves(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = scene.root / "in.json"
    inputs.write_text(json.dumps({"x": [0.25, -0.5, 0.125, 0.0]}))
    requester = scene.chain.accounts[1]
    sent = scene.hub.request(
        scene.public_id, [0.25, -0.5, 0.125, 0.0], fee=10**15, sender=requester
    )
    rid = sent.request_id
    args = ["submit", str(scene.public_dir), "--rpc", scene.url, "--hub", scene.hub.address]
    assert main([*args, "--request-id", str(rid), "--input", str(inputs)]) == 0
    assert "fulfilled request" in capsys.readouterr().out
    result = scene.hub.result(rid)
    assert result["status"] == 2 and len(result["outputs"]) == 1


def test_feed_rounds_of_a_private_weights_model_carry_its_commitment(scene: Scene) -> None:
    feed_id = keccak(text="private-weights feed")
    scene.hub.create_feed(feed_id, scene.private_id)
    sender = scene.chain.sender
    binding = scene.hub.feed_binding(feed_id, 1, sender)
    x = {"x": np.array([[0.25, -0.5, 0.125, 0.0]])}
    res = circuits.prove(scene.private_dir, x, binding=binding)
    parts = circuits.load_model_dir(scene.private_dir).manifest.layout.parts(res.public)
    assert parts.inputs is not None and parts.outputs is not None
    scene.hub.update_feed(feed_id, parts.inputs, parts.outputs, 1, res.proof)
    assert scene.hub.latest(feed_id)["outputs"] == parts.outputs
    # The same outputs with a proof made for other weights: rejected.
    loaded = circuits.load_model_dir(scene.private_dir)
    other = {t.name: list(t.values) for t in loaded.compiled.private_weights}
    other[next(iter(other))][0] += 1
    w = loaded.compiled.witness(
        x, scene.hub.feed_binding(feed_id, 2, sender), salts=loaded.salts(), weights=other
    )
    proof = backend_for(scene.private_dir).prove(
        scene.private_dir, w, cs=loaded.compiled.circuit.cs
    )
    with pytest.raises(TransactionReverted) as info:
        scene.hub.update_feed(feed_id, parts.inputs, loaded.compiled.output_values(w), 2, proof,
                              gas=2_000_000)  # fmt: skip
    assert info.value.error_name == "InvalidProof"
