"""Calibration on awkward sample sets: every operator family either compiles to a circuit
whose witness matches onnxruntime, or fails with a `CircuitError` that names the input or
tensor and the magnitude found; never an internal error or a Python exception."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import onnx
import pytest

from circuits.errors import CalibrationError, CircuitError
from circuits.onnx.calibrate import calibrate
from circuits.onnx.compiler import compile_graph
from circuits.onnx.examples import single_op
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.quant import dequantize
from tests.circuits.onnx.onnx_harness import reference

W = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


def _families() -> dict[str, onnx.ModelProto]:
    return {
        "Add": single_op("Add", [(1, 4), (1, 4)]),
        "Mul": single_op("Mul", [(1, 4), (1, 4)]),
        "MatMul": single_op("MatMul", [(1, 4)], constants={"w": W}),
        "AveragePool": single_op("AveragePool", [(1, 1, 4, 4)], kernel_shape=[2, 2]),
        "MaxPool": single_op("MaxPool", [(1, 1, 4, 4)], kernel_shape=[2, 2]),
        "ReduceMean": single_op("ReduceMean", [(2, 4)], keepdims=0),
        "Reshape": single_op("Reshape", [(2, 4)], constants={"s": np.array([8])}),
        "Relu": single_op("Relu", [(1, 4)]),
        "Sigmoid": single_op("Sigmoid", [(1, 4)]),
        "Tanh": single_op("Tanh", [(1, 4)]),
        "Exp": single_op("Exp", [(1, 4)]),
        "Softmax": single_op("Softmax", [(1, 4)]),
        "LogSoftmax": single_op("LogSoftmax", [(1, 4)]),
        "LayerNormalization": single_op(
            "LayerNormalization", [(1, 4)], constants={"s": np.ones(4), "b": np.zeros(4)}
        ),
        "Gelu": single_op("Gelu", [(1, 4)], opset=20),
        "Sqrt": single_op("Sqrt", [(1, 4)]),
        "Log": single_op("Log", [(1, 4)]),
        "Reciprocal": single_op("Reciprocal", [(1, 4)]),
        "Round": single_op("Round", [(1, 4)]),
        "TopK": single_op("TopK", [(1, 4)], constants={"k": np.array([2])}, n_outputs=2),
        "Less": single_op("Less", [(1, 4), (1, 4)]),
        "ReduceL2": single_op("ReduceL2", [(2, 4)], keepdims=0),
    }


FAMILIES = _families()
#: (label, magnitude, kind): kind "rand" (uniform in [-m, m], 3 samples), "const" (every
#: value m, one sample), "one" (a single random sample).
SETS = [
    ("zeros", 0.0, "const"),
    ("const", 3.5, "const"),
    ("tiny", 1e-7, "rand"),
    ("single", 1.0, "one"),
    ("large", 1e4, "rand"),
    ("huge", 1e12, "rand"),
    ("extreme", 1e37, "rand"),
]


def _samples(graph: Any, mag: float, kind: str) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    n = 3 if kind == "rand" else 1
    if kind == "const":
        return [{i.name: np.full(i.shape, mag) for i in graph.inputs}]
    return [{i.name: rng.uniform(-mag, mag, i.shape) for i in graph.inputs} for _ in range(n)]


@pytest.mark.parametrize("label,mag,kind", SETS, ids=[s[0] for s in SETS])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_calibration_extremes(family: str, label: str, mag: float, kind: str) -> None:
    model = FAMILIES[family]
    graph = load_model_bytes(model.SerializeToString(), family)
    samples = _samples(graph, mag, kind)
    try:
        cfg = calibrate(graph, samples)
        compiled = compile_graph(graph, cfg)
        wit = compiled.witness(samples[0], check=True)
    except CircuitError as e:
        msg = str(e)
        assert "internal" not in msg.lower(), msg
        # names an input, a tensor or a node, and the value range or limit
        assert re.search(r"'[^']+'", msg), msg
        assert re.search(r"\d", msg), msg
        if label != "extreme":
            assert isinstance(e, CalibrationError), msg  # a float overflow in the model
        return
    got = compiled.outputs_from_public(wit.public)
    want = reference(model, {k: v.astype(np.float32) for k, v in samples[0].items()})
    for name, ref in want.items():
        ref = np.asarray(ref, dtype=np.float64)
        step = float(dequantize(np.array([1]), cfg.act_scale)[0])
        tol = 64 * step + 2e-3 * float(np.max(np.abs(ref), initial=0.0))
        err = float(np.max(np.abs(got[name] - ref), initial=0.0))
        assert err <= tol, (family, label, err, tol)


def test_nan_sample_named() -> None:
    graph = load_model_bytes(FAMILIES["Relu"].SerializeToString(), "relu")
    with pytest.raises(CalibrationError, match=r"input 'x0': NaN or infinity"):
        calibrate(graph, [{"x0": np.array([[1.0, np.nan, 0.0, 0.0]])}])
