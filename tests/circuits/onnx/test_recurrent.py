"""LSTM, GRU and RNN unrolled over time, against onnxruntime over random inputs; and
the refusals (dynamic or shorter sequence lengths, clipping, uncertified activations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from circuits.errors import ModelError, UnsupportedOpError
from circuits.testing import prove_and_verify
from tests.circuits.onnx.ml_harness import certified, compare, compile_onnx
from tests.circuits.onnx.rnn_builders import recurrent_model

SAMPLES = 12


def layer_bound(compiled: Any) -> float:
    """The recurrent layer's certified bound: every rounding and approximation of every
    step, propagated through the recurrence (`recurrent_bound`)."""
    return float(
        next(a for a in compiled.approximations if a["function"] == "recurrent")["max_abs_error"]
    )


def inputs(model: onnx.ModelProto, n: int, seed: int = 1) -> np.ndarray:
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype(np.float32)


def steps_cost(model: Any) -> float:
    rec = next(a for a in model.approximations if a["function"] == "recurrent")
    return float(rec["constraints_per_step"])


CASES = [
    ("RNN", {}),
    ("RNN", {"activations": ["Relu"], "initial": True}),
    ("GRU", {}),
    ("GRU", {"linear_before_reset": 1, "direction": "reverse", "initial": True}),
    ("LSTM", {}),
    ("LSTM", {"direction": "bidirectional", "initial": True, "peepholes": True}),
]


@pytest.mark.parametrize(("kind", "kw"), CASES, ids=[f"{k}-{sorted(v)}" for k, v in CASES])
def test_matches_onnxruntime_within_the_certified_bound(kind: str, kw: dict[str, Any]) -> None:
    model = recurrent_model(kind, 3, 3, 4, **kw)
    compiled = compile_onnx(model)
    res = compare(compiled, inputs(model, SAMPLES))
    bound = layer_bound(compiled)
    for name, err in res.max_err.items():
        assert err <= bound, (name, err, bound)
    assert steps_cost(compiled) > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_error_over_100_random_inputs(kind: str) -> None:
    model = recurrent_model(kind, 3, 3, 3, seed=3)
    compiled = compile_onnx(model)
    res = compare(compiled, inputs(model, 100, seed=5))
    assert max(res.max_err.values()) <= layer_bound(compiled)


def test_constant_sequence_lens_shorter_than_the_sequence_is_refused() -> None:
    model = recurrent_model("GRU", 3, 2, 3)
    model.graph.node[0].input[4] = "lens"
    model.graph.initializer.append(helper.make_tensor("lens", TensorProto.INT32, [1], [2]))
    with pytest.raises(UnsupportedOpError, match=r"'GRU'.*'my_gru'.*sequence_lens = \[2\]"):
        compile_onnx(model)


def test_dynamic_sequence_axis_is_refused() -> None:
    model = recurrent_model("LSTM", 3, 2, 3)
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    dim.Clear()
    dim.dim_param = "seq"
    with pytest.raises(ModelError, match=r"'my_lstm' \(LSTM\).*sequence length \(axis 0\)"):
        compile_onnx(model)


@pytest.mark.parametrize(
    ("attrs", "needle"),
    [
        ({"clip": 3.0}, "attribute clip"),
        ({"activations": ["Sigmoid", "Elu", "Tanh"]}, "activations: 'Elu'"),
        ({"input_forget": 1}, "input_forget"),
    ],
)
def test_unsupported_attributes_name_the_node(attrs: dict[str, Any], needle: str) -> None:
    with pytest.raises(UnsupportedOpError, match=rf"'LSTM'.*'my_lstm'.*{needle}"):
        compile_onnx(recurrent_model("LSTM", 2, 2, 2, **attrs))


FIXTURES = Path(__file__).parent / "fixtures"
TORCH_SMALL = ["torch_rnn_s3_f3_h4", "torch_gru_s3_f3_h4", "torch_lstm_bi_s3_f3_h4"]


@pytest.mark.parametrize("name", TORCH_SMALL)
def test_torch_exports_match_onnxruntime(name: str) -> None:
    """Real torch.onnx.export output (scripts/export_rnn_fixtures.py), committed as files."""
    model = onnx.load(str(FIXTURES / f"{name}.onnx"))
    compiled = compile_onnx(model)
    res = compare(compiled, inputs(model, SAMPLES, seed=9))
    for out, err in res.max_err.items():
        assert err <= certified(compiled), out
    if name == "torch_rnn_s3_f3_h4":
        prove_and_verify(compiled.circuit, [compiled.witness({"x": inputs(model, 1)[0]})])
