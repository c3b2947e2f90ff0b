"""Loop and Scan with a static trip count, unrolled: an RNN cell written both ways (as
converters emit recurrent networks), against onnxruntime; data-dependent loops refused."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from ml_harness import certified, compare, compile_onnx
from onnx import TensorProto, helper, numpy_helper

from circuits.errors import UnsupportedOpError

STEPS, FEATURES, HIDDEN = 4, 3, 4
F32 = TensorProto.FLOAT


def _weights() -> list[onnx.TensorProto]:
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.5, 0.5, (FEATURES, HIDDEN)).astype(np.float32)
    r = rng.uniform(-0.5, 0.5, (HIDDEN, HIDDEN)).astype(np.float32)
    return [numpy_helper.from_array(w, "W"), numpy_helper.from_array(r, "R")]


def _cell(x: str, h: str, out: str) -> list[onnx.NodeProto]:
    return [
        helper.make_node("MatMul", [x, "W"], ["xw"]),
        helper.make_node("MatMul", [h, "R"], ["hr"]),
        helper.make_node("Add", ["xw", "hr"], ["pre"]),
        helper.make_node("Tanh", ["pre"], [out]),
    ]


def _model(node: onnx.NodeProto, extra: list[onnx.TensorProto]) -> onnx.ModelProto:
    g = helper.make_graph(
        [node], "cf", [helper.make_tensor_value_info("X", F32, [STEPS, 1, FEATURES])],
        [helper.make_tensor_value_info("h", F32, [1, HIDDEN]),
         helper.make_tensor_value_info("ys", F32, [STEPS, 1, HIDDEN])],
        initializer=_weights() + extra,
    )  # fmt: skip
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def scan_model() -> onnx.ModelProto:
    body = helper.make_graph(
        [*_cell("x_t", "h_in", "h_out"), helper.make_node("Identity", ["h_out"], ["y_t"])],
        "body",
        [helper.make_tensor_value_info("h_in", F32, [1, HIDDEN]),
         helper.make_tensor_value_info("x_t", F32, [1, FEATURES])],
        [helper.make_tensor_value_info("h_out", F32, [1, HIDDEN]),
         helper.make_tensor_value_info("y_t", F32, [1, HIDDEN])],
    )  # fmt: skip
    node = helper.make_node("Scan", ["h0", "X"], ["h", "ys"], body=body, num_scan_inputs=1)
    h0 = numpy_helper.from_array(np.full((1, HIDDEN), 0.1, np.float32), "h0")
    return _model(node, [h0])


def loop_model(trip: int = STEPS) -> onnx.ModelProto:
    gather = helper.make_node("Gather", ["X", "i"], ["x_t"], axis=0)
    body = helper.make_graph(
        [gather, *_cell("x_t", "h_in", "h_out"),
         helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("Identity", ["h_out"], ["y_t"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", F32, [1, HIDDEN])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", F32, [1, HIDDEN]),
         helper.make_tensor_value_info("y_t", F32, [1, HIDDEN])],
    )  # fmt: skip
    node = helper.make_node("Loop", ["M", "", "h0"], ["h", "ys"], body=body, name="loop")
    m = numpy_helper.from_array(np.asarray(trip, np.int64), "M")
    h0 = numpy_helper.from_array(np.zeros((1, HIDDEN), np.float32), "h0")
    return _model(node, [m, h0])


@pytest.mark.parametrize("make", [scan_model, loop_model], ids=["Scan", "Loop"])
def test_unrolled_body_matches_onnxruntime(make: object) -> None:
    model = make()  # type: ignore[operator]
    compiled = compile_onnx(model)
    x = np.random.default_rng(1).uniform(-1, 1, (10, STEPS, 1, FEATURES)).astype(np.float32)
    res = compare(compiled, x)
    for name, err in res.max_err.items():
        assert err <= certified(compiled) + 1e-4, name


def test_loop_with_a_computed_trip_count_is_refused() -> None:
    model = loop_model()
    model.graph.initializer.pop(-2)  # M becomes the arg max of the inputs
    flat = numpy_helper.from_array(np.asarray([-1], np.int64), "flat")
    model.graph.initializer.append(flat)
    model.graph.node.insert(0, helper.make_node("Reshape", ["X", "flat"], ["xf"]))
    model.graph.node.insert(1, helper.make_node("ArgMax", ["xf"], ["M"], axis=0, keepdims=0))
    with pytest.raises(UnsupportedOpError, match=r"'Loop'.*'loop'.*trip count.*fixed trip count"):
        compile_onnx(model)
