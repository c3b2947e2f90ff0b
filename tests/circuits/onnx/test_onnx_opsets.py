"""Older exports and integer inputs: opsets below 11 are upgraded with onnx's version
converter; integer inputs enter the circuit exactly when they fit its range."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from circuits.errors import InputRangeError
from circuits.onnx.examples import _model, mlp
from circuits.onnx.loader import load_model_bytes
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand


@pytest.mark.parametrize("opset", [7, 9, 10])
def test_old_mlp_is_upgraded(opset: int) -> None:
    model = mlp((4, 3, 1))
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", opset))
    graph = load_model_bytes(model.SerializeToString(), "old")
    assert graph.opset == 11
    check_model(model, {"x": rand(0, 1, 4)}, 1e-3)


def test_opset9_upsample_becomes_resize() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])
    scales = helper.make_tensor("s", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0])
    node = helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest")
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])
    model = _model([node], [x], [y], [scales], "up", opset=9)
    graph = load_model_bytes(model.SerializeToString(), "up")
    assert "Resize" in [n.op_type for n in graph.nodes]


def test_no_default_domain_opset_gets_one() -> None:
    # onnxmltools' XGBoost converter may import the ai.onnx.ml domain only
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    node = helper.make_node("Scaler", ["x"], ["y"], domain="ai.onnx.ml", scale=[2.0, 2.0])
    graph = helper.make_graph([node], "ml", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    loaded = load_model_bytes(model.SerializeToString(), "ml")
    assert loaded.opset == 11


def _int_model(elem: int) -> object:
    x = helper.make_tensor_value_info("x", elem, [1, 3])
    f = helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 3])
    cast = helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT)
    add = helper.make_node("Add", ["xf", "f"], ["y"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    return _model([cast, add], [x, f], [y], [], "ints")


@pytest.mark.parametrize("elem", [TensorProto.INT64, TensorProto.INT32])
def test_integer_inputs_enter_exactly(elem: int) -> None:
    model = _int_model(elem)
    feeds = {"x": np.array([[3, -7, 1000]]), "f": rand(1, 1, 3)}
    compiled, _ = check_model(model, feeds, 1e-4)  # type: ignore[arg-type]
    assert compiled.inputs[0].scale == 0


def test_integer_input_out_of_range_names_the_range() -> None:
    compiled = compile_model(_int_model(TensorProto.INT64))  # type: ignore[arg-type]
    with pytest.raises(
        InputRangeError,
        match=r"'x'\[1\] = 100000000.0 is outside the compiled range \[-8.38861e\+06",
    ):
        compiled.quantize_inputs({"x": np.array([[1, 1e8, 0]]), "f": np.zeros((1, 3))})


def test_integer_input_refuses_fractions() -> None:
    compiled = compile_model(_int_model(TensorProto.INT32))  # type: ignore[arg-type]
    with pytest.raises(InputRangeError, match=r"'x'\[2\] = 0.5 is not an integer.*INT32"):
        compiled.quantize_inputs({"x": np.array([[1, 2, 0.5]]), "f": np.zeros((1, 3))})
