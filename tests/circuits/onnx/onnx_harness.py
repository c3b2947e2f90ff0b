"""Run one ONNX model through the compiler and onnxruntime and compare the two.

`check_model` compiles the model, computes the witness with every constraint checked (so
the constraint system is satisfied by the honest witness), scans it for private wires that
could change alone (`assert_pinned`), dequantizes the public outputs and compares them
with onnxruntime's within a tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.quant import QuantConfig
from circuits.testing import assert_pinned

#: One rounding step at the default activation scale.
ULP = 2.0**-16


def reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), sess_options=opts)
    names = [o.name for o in sess.get_outputs()]
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    typed = {
        k: np.asarray(v, dtype=onnx.helper.tensor_dtype_to_np_dtype(types.get(k, 1)))
        for k, v in feeds.items()
    }
    return dict(zip(names, sess.run(None, typed), strict=True))


def compile_model(model: onnx.ModelProto, config: QuantConfig | None = None) -> CompiledModel:
    return compile_graph(load_model_bytes(model.SerializeToString(), model.graph.name), config)


def check_model(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    tol: float,
    config: QuantConfig | None = None,
) -> tuple[CompiledModel, dict[str, np.ndarray]]:
    """Compile, solve (checking every constraint), compare with onnxruntime within tol."""
    compiled = compile_model(model, config)
    witness = compiled.witness(feeds, binding=7, check=True)
    assert compiled.circuit.cs.is_satisfied(witness.values)
    assert_pinned(compiled.circuit, witness.values)
    got = compiled.outputs_from_public(witness.public)
    ref = reference(model, feeds)
    for name, want in ref.items():
        have = got[name]
        want = np.asarray(want, dtype=np.float64)
        assert have.shape == want.shape, (name, have.shape, want.shape)
        err = float(np.max(np.abs(have - want), initial=0.0))
        assert err <= tol, (
            f"{name}: max error {err:.3g} > {tol:.3g}\ncircuit {have}\nonnxruntime {want}"
        )
    return compiled, got


def rand(seed: int, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-scale, scale, shape).astype(np.float32)


def f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)
