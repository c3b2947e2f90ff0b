"""Whole models: compile, set up, prove, verify (our verifier and `snarkjs groth16 verify`),
an under-constraint scan of every compiled circuit, and the error against onnxruntime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

import circuits
from circuits.errors import FormatError
from circuits.field import R
from circuits.formats.snarkjs_json import write_proof, write_public
from circuits.model_store import COMPILED_FILE, load_compiled
from circuits.onnx import examples
from circuits.onnx.registry import supported_ops
from circuits.provers.snarkjs_cli import SnarkjsCli
from circuits.testing import assert_pinned, unpinned_wires
from tests.circuits.onnx.onnx_harness import reference

needs_sigmoid = pytest.mark.skipif(
    "Sigmoid" not in supported_ops(), reason="the Sigmoid lowering is not registered"
)

MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "mlp_8_16_1": lambda: examples.mlp((8, 16, 1)),
    "mlp_32_64_32_1_sigmoid": lambda: examples.mlp((32, 64, 32, 1), head="Sigmoid"),
    "cnn_8x8": lambda: examples.cnn(),
}
PARAMS = [
    pytest.param("mlp_8_16_1"),
    pytest.param("mlp_32_64_32_1_sigmoid", marks=[needs_sigmoid, pytest.mark.slow]),
    pytest.param("cnn_8x8", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module", params=PARAMS)
def model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name = request.param
    d = tmp_path_factory.mktemp(name)
    onnx_path = examples.save(MODELS[name](), d / f"{name}.onnx")
    circuits.compile_model(onnx_path, d / "out")
    circuits.setup(d / "out", progress=lambda _m: None)
    return d / "out"


def _sample(model_dir: Path, seed: int) -> dict[str, np.ndarray]:
    m = circuits.load_model_dir(model_dir).manifest
    rng = np.random.default_rng(seed)
    return {s.name: rng.uniform(-1, 1, s.shape) for s in m.inputs}


@pytest.mark.snarkjs
def test_prove_and_verify(model_dir: Path, tmp_path: Path) -> None:
    sample = _sample(model_dir, 1)
    result = circuits.prove(model_dir, sample, binding=2**200 + 17)
    assert result.public[0] == 2**200 + 17
    assert circuits.verify(model_dir, result.public, result.proof)
    want = reference(onnx.load(str(model_dir / "model.onnx")), sample)
    for name, got in result.outputs.items():
        assert np.max(np.abs(got - want[name])) < 1e-4
    # a different binding or output value breaks the proof
    assert not circuits.verify(model_dir, [result.public[0] + 1, *result.public[1:]], result.proof)
    assert not circuits.verify(
        model_dir, [*result.public[:-1], (result.public[-1] + 1) % R], result.proof
    )
    # and snarkjs accepts exactly what we write
    write_proof(tmp_path / "proof.json", result.proof)
    write_public(tmp_path / "public.json", result.public)
    lines = SnarkjsCli().run(
        [
            "groth16",
            "verify",
            model_dir / "verification_key.json",
            tmp_path / "public.json",
            tmp_path / "proof.json",
        ]
    )
    assert lines[-1].endswith("OK!")


def test_manifest_and_reload(model_dir: Path) -> None:
    m = circuits.load_model_dir(model_dir).manifest
    assert m.error["max_abs_err"] < 1e-4 and m.error["overflows"] == 0
    assert sum(n.constraints for n in m.nodes) == m.n_constraints
    reloaded = circuits.LoadedModel.load(model_dir)  # the stored compiled model
    assert reloaded.compiled.circuit.cs.n_constraints == m.n_constraints
    doc = circuits.info(model_dir)
    assert doc["public_inputs"]["order"][0] == {"name": "binding", "words": 1}
    assert doc["setup"] is not None and doc["setup"]["backend"] == "native"


def test_stored_compiled_model_is_used_only_when_it_matches(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    manifest = circuits.Manifest.load(copy)
    assert load_compiled(copy, manifest) is not None
    compiles: list[object] = []
    from circuits.onnx import compiler

    real = compiler.compile_graph

    def counting(*a: Any) -> Any:
        compiles.append(a)
        return real(*a)

    monkeypatch.setattr(compiler, "compile_graph", counting)
    circuits.LoadedModel.load(copy)
    assert compiles == []  # no recompilation
    data = bytearray((copy / COMPILED_FILE).read_bytes())
    data[len(data) // 2] ^= 1
    (copy / COMPILED_FILE).write_bytes(bytes(data))
    assert load_compiled(copy, manifest) is None
    loaded = circuits.LoadedModel.load(copy)  # recompiles, checks, stores again
    assert len(compiles) == 1 and loaded.manifest == manifest
    assert load_compiled(copy, manifest) is not None


def test_tampered_model_copy_is_refused(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    m = onnx.load(str(copy / "model.onnx"))
    arr = onnx.numpy_helper.to_array(m.graph.initializer[0]).copy()
    arr.flat[0] += 0.5
    m.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(arr, m.graph.initializer[0].name))
    onnx.save(m, str(copy / "model.onnx"))
    with pytest.raises(FormatError, match="does not match the manifest"):
        circuits.LoadedModel.load(copy)


def test_no_under_constrained_wire(model_dir: Path) -> None:
    loaded = circuits.load_model_dir(model_dir)
    w = loaded.witness(_sample(model_dir, 3))
    circuit = loaded.compiled.circuit
    assert circuit.cs.is_satisfied(w.values)
    assert_pinned(circuit, w.values)


def test_scan_finds_a_free_wire() -> None:
    from circuits.builder import Builder

    b = Builder()
    x = b.public_input("x")
    y = b.private_input("y")
    with b.gadget("weak"):
        (h,) = b.hint("copy", [y], 1)
        b.assert_mul(h, y, x)  # mentions h, but pins it only while y != 0
    c = b.build()
    h_wire = c.translate(h).single_wire()
    assert unpinned_wires(c.cs, c.solve({"x": 9, "y": 3}).values) == []
    assert unpinned_wires(c.cs, c.solve({"x": 0, "y": 0}).values) == [h_wire]
