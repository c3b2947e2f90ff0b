"""ONNX-ML linear models and preprocessing, exported by skl2onnx from models trained here
on generated data, against onnxruntime; one of them proved and verified."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from circuits.errors import UnsupportedOpError
from circuits.testing import assert_pinned, hint_outputs, prove_and_verify, replay
from tests.circuits.onnx.ml_harness import certified, compare, compile_onnx, data, export

#: The error of the free linear part (weights and inputs rounded at 2^-16) on top of the
#: certified error of the approximations; at the default precision it stays below this.
LINEAR_SLACK = 1e-4
ROWS = 200


@pytest.mark.parametrize("classes", [2, 3])
def test_logistic_regression_matches_onnxruntime(classes: int) -> None:
    x, y2, y3 = data(1, 400, 6)
    est = LogisticRegression().fit(x[:200], y2[:200] if classes == 2 else y3[:200])
    compiled = compile_onnx(export(est, x))
    res = compare(compiled, x[200 : 200 + ROWS], label="output_label")
    assert res.label_mismatch == []
    assert res.max_err["output_probability"] <= certified(compiled) + LINEAR_SLACK


def test_scaler_pipeline_and_linear_regression() -> None:
    x, y2, _ = data(2, 300, 5)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:100], y2[:100])
    compiled = compile_onnx(export(pipe, x))
    res = compare(compiled, x[100:300], label="output_label")
    assert res.label_mismatch == []
    assert res.max_err["output_probability"] <= certified(compiled) + LINEAR_SLACK
    reg = LinearRegression().fit(x[:100], x[:100] @ np.arange(5.0) - 1)
    res = compare(compile_onnx(export(reg, x)), x[100:150])
    assert res.max_err["variable"] <= LINEAR_SLACK


def test_logistic_pipeline_proves_and_verifies() -> None:
    x, y2, _ = data(3, 120, 4)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y2)
    compiled = compile_onnx(export(pipe, x))
    prove_and_verify(compiled.circuit, [compiled.witness({"X": x[i : i + 1]}) for i in (0, 1)])


def _graph(
    node: onnx.NodeProto, width: int, out_width: int, **extra: onnx.ValueInfoProto
) -> onnx.ModelProto:
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, [1, out_width])],
        initializer=list(extra.values()),
    )
    return helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    )


def _ml(op: str, inputs: list[str], **attrs: Any) -> onnx.NodeProto:
    return helper.make_node(op, inputs, ["Y"], domain="ai.onnx.ml", name=f"my_{op}", **attrs)


def test_preprocessing_ops_match_onnxruntime() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (30, 4)).astype(np.float32)
    x[0, 1] = 0.25  # hits the Imputer's replaced value exactly
    idx = helper.make_tensor("idx", TensorProto.INT64, [2], [3, 1])
    cases = [
        (_ml("Binarizer", ["X"], threshold=0.1), 4, {}),
        (_ml("Imputer", ["X"], imputed_value_floats=[9.0], replaced_value_float=0.25), 4, {}),
        (_ml("ArrayFeatureExtractor", ["X", "idx"]), 2, {"idx": idx}),
        (_ml("Normalizer", ["X"], norm="L1"), 4, {}),
        (_ml("Normalizer", ["X"], norm="L2"), 4, {}),
        (_ml("Scaler", ["X"], offset=[0.5, 0, 0, -1], scale=[2.0, 3, 0.5, 1]), 4, {}),
    ]
    for node, out_width, extra in cases:
        compiled = compile_onnx(_graph(node, 4, out_width, **extra))
        res = compare(compiled, x)
        assert res.max_err["Y"] <= certified(compiled) + 2.0**-15, node.op_type


@pytest.mark.parametrize(
    ("attrs", "needle"),
    [
        ({"classlabels_strings": ["a", "b"]}, "classlabels_strings"),
    ],
)
def test_unsupported_attributes_name_node_and_fix(attrs: dict[str, Any], needle: str) -> None:
    base: dict[str, Any] = {"coefficients": [1.0, -1, 2, 0.5], "intercepts": [0.1, -0.1]}
    if "classlabels_strings" not in attrs:
        base["classlabels_ints"] = [0, 1]
    node = helper.make_node(
        "LinearClassifier", ["X"], ["label", "Y"], domain="ai.onnx.ml", name="clf", **base, **attrs
    )
    label_type = TensorProto.STRING if "classlabels_strings" in attrs else TensorProto.INT64
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [
            helper.make_tensor_value_info("label", label_type, [1]),
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2]),
        ],
    )
    model = helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    )
    with pytest.raises(UnsupportedOpError, match=needle) as info:
        compile_onnx(model)
    assert "'clf'" in str(info.value) and "LinearClassifier" in str(info.value)


def test_normalizer_l2_and_max_edge_rows_match_onnxruntime() -> None:
    # a row of zeros, a row whose maximum is 0 (left unchanged), a negative maximum
    # (the signs flip), a single nonzero element, and ties
    x = np.array(
        [[0, 0, 0, 0], [-1, 0, -2, 0], [-1, -2, -4, -0.5], [0, 0.5, 0, 0], [3, 3, -3, 1.5]],
        dtype=np.float32,
    )
    # MAX divides by the row's maximum, which may be tiny: the inputs are multiples of
    # 2^-8 so that their quantization is exact and only the division rounds
    grid = np.random.default_rng(5).integers(-256, 257, (30, 4)).astype(np.float32) / 256
    for norm in ("L1", "L2", "MAX"):
        compiled = compile_onnx(_graph(_ml("Normalizer", ["X"], norm=norm), 4, 4))
        res = compare(compiled, np.concatenate([x, grid]))
        assert res.max_err["Y"] <= certified(compiled) + 2.0**-20, norm
        for row in x:  # every hinted wire is pinned by the constraints
            assert_pinned(compiled.circuit, compiled.witness({"X": row[None]}).values)


def test_normalizer_l2_magnitude_is_pinned() -> None:
    compiled = compile_onnx(_graph(_ml("Normalizer", ["X"], norm="L2"), 4, 4))
    honest = compiled.witness({"X": np.array([[0.5, -0.25, 1.0, 0.0]], np.float32)}, check=True)
    circuit = compiled.circuit
    for wires in hint_outputs(circuit, "l2_magnitude"):
        for delta in (1, -1):
            forged = replay(circuit, honest.values, {wires[0]: honest.values[wires[0]] + delta})
            assert circuit.cs.first_unsatisfied(forged) is not None
