"""Scatter reductions (mul / max / min), MaxPool's Indices output, DynamicQuantizeLinear and
Pow with fractional exponents: against onnxruntime, and malicious witnesses that the
constraints must refuse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper

from circuits.field import from_field
from circuits.onnx.examples import _model, single_op
from circuits.testing import hint_outputs, replay
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand


def _refused(compiled: Any, values: list[int], hint: str, delta: int, call: int = 0) -> None:
    """Shifting output 0 of the `call`-th call of `hint` must leave a constraint broken."""
    wire = hint_outputs(compiled.circuit, hint)[call][0]
    forged = replay(compiled.circuit, values, {wire: from_field(values[wire]) + delta})
    assert forged[wire] != values[wire]
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


SCATTER = [
    ("ScatterElements", (3, 4), (2, 4), np.array([[1, 0, 2, 1], [1, 2, 2, 0]]), {"axis": 0}),
    ("ScatterElements", (3, 4), (3, 2), np.array([[1, 1], [0, 3], [2, 2]]), {"axis": 1}),
    ("ScatterND", (4, 3), (3, 3), np.array([[3], [1], [3]]), {}),
    ("ScatterND", (2, 3), (3,), np.array([[0, 1], [1, 2], [0, 1]]), {}),
]


@pytest.mark.parametrize("reduction", ["mul", "max", "min"])
@pytest.mark.parametrize("case", range(len(SCATTER)))
def test_scatter_reductions_match_onnxruntime(case: int, reduction: str) -> None:
    """Duplicate indices fold in index order, as onnxruntime does."""
    op, dshape, ushape, idx, attrs = SCATTER[case]
    model = single_op(
        op, [dshape, ushape], constants={"i": idx}, order=["x0", "i", "x1"],
        reduction=reduction, opset=18, **attrs,
    )  # fmt: skip
    feeds = {"x0": rand(case, *dshape, scale=2.0), "x1": rand(case + 9, *ushape, scale=2.0)}
    check_model(model, feeds, 2e-3)


def test_scatter_max_cannot_be_forged() -> None:
    """Flipping the comparison a scatter max rests on breaks a constraint."""
    model = single_op(
        "ScatterElements", [(1, 3), (1, 2)], constants={"i": np.array([[0, 2]])},
        order=["x0", "i", "x1"], axis=1, reduction="max", opset=18,
    )  # fmt: skip
    compiled = compile_model(model)
    w = compiled.witness({"x0": np.array([[0.5, 1.0, -1.0]]), "x1": np.array([[0.25, 2.0]])})
    for call in range(2):
        _refused(compiled, w.values, "bits", 1, call)


def _maxpool(storage_order: int, pads: list[int], strides: list[int]) -> Any:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2, 5, 4])
    y = helper.make_empty_tensor_value_info("y")
    z = helper.make_empty_tensor_value_info("z")
    node = helper.make_node(
        "MaxPool", ["x"], ["y", "z"], name="pool", kernel_shape=[3, 2], pads=pads,
        strides=strides, storage_order=storage_order,
    )  # fmt: skip
    return _model([node], [x], [y, z], [], "maxpool_indices", 12)


@pytest.mark.parametrize("storage_order", [0, 1])
@pytest.mark.parametrize("pads,strides", [([0, 0, 0, 0], [1, 1]), ([1, 0, 1, 1], [2, 1])])
def test_maxpool_indices_match_onnxruntime(
    storage_order: int, pads: list[int], strides: list[int]
) -> None:
    x = np.round(rand(3, 2, 2, 5, 4) * 8) / 8  # ties inside windows: the first one wins
    check_model(_maxpool(storage_order, pads, strides), {"x": x}, 0.0)


def test_maxpool_index_cannot_be_forged() -> None:
    """Moving the one-hot choice to another element of the window breaks a constraint."""
    compiled = compile_model(_maxpool(0, [0, 0, 0, 0], [1, 1]))
    w = compiled.witness({"x": rand(4, 2, 2, 5, 4)})
    wires = hint_outputs(compiled.circuit, "argmax_onehot")[0]
    hot = next(i for i, o in enumerate(wires) if w.values[o] == 1)
    forced = {wires[hot]: 0, wires[(hot + 1) % len(wires)]: 1}
    forged = replay(compiled.circuit, w.values, forced)
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


def _dql() -> Any:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    outs = [helper.make_empty_tensor_value_info(n) for n in ("y", "s", "zp")]
    node = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "zp"], name="dql")
    return _model([node], [x], outs, [], "dql", 11)


@pytest.mark.parametrize("shift", [0.0, 1.5, -1.5])
def test_dynamic_quantize_matches_onnxruntime(shift: float) -> None:
    """All-positive, all-negative and mixed data (the zero is always in the range)."""
    x = rand(7, 3, 4, scale=1.0) + np.float32(shift)
    _, got = check_model(_dql(), {"x": x}, 1.0)
    from tests.circuits.onnx.onnx_harness import reference

    want = reference(_dql(), {"x": x})
    assert np.sum(got["y"] != want["y"]) <= 1  # a float32 near-tie may round the other way
    assert abs(float(got["s"]) - float(want["s"])) < 2e-5
    assert int(got["zp"]) == int(want["zp"])


def test_dynamic_quantize_all_zero() -> None:
    compiled = compile_model(_dql())
    w = compiled.witness({"x": np.zeros((3, 4), dtype=np.float32)}, check=True)
    got = compiled.outputs_from_public(w.public)
    assert not np.any(got["y"]) and float(got["s"]) == 0 and int(got["zp"]) == 0


@pytest.mark.parametrize("hint,delta", [("div_round_var", 1), ("div_round_var", -1)])
def test_dynamic_quantize_cannot_be_forged(hint: str, delta: int) -> None:
    """A quotient (the zero point, then an element) one off breaks a constraint; so does
    a lie about the data's maximum."""
    compiled = compile_model(_dql())
    w = compiled.witness({"x": rand(8, 3, 4)})
    for call in range(3):
        _refused(compiled, w.values, hint, delta, call)
    if hint_outputs(compiled.circuit, "max_of"):
        _refused(compiled, w.values, "max_of", delta)


def test_fractional_pow_matches_onnxruntime() -> None:
    """Per-element exponents, zeros with positive exponents, and integer exponents mixed
    in (computed exactly, the others through exp(y log x))."""
    y = np.array([[0.3, 1.7, -0.6, 2.0], [2.5, -1.25, 0.5, 3.0]], dtype=np.float32)
    model = single_op("Pow", [(2, 4)], constants={"y": y})
    x = np.abs(rand(5, 2, 4, scale=3.0)) + np.float32(0.25)
    x[0, 0] = x[0, 1] = 0.0
    compiled, _ = check_model(model, {"x0": x}, 2e-2)
    report = [a for a in compiled.approximations if a["function"] == "pow"]
    assert report and report[0]["max_rel_error_from_exponent"] < 1e-3


def test_fractional_pow_zero_cannot_be_forged() -> None:
    """Claiming a non-zero x is zero (so that x^y would read 0) breaks a constraint."""
    model = single_op("Pow", [(1, 3)], constants={"y": np.array([0.5, 1.5, 2.2])})
    compiled = compile_model(model)
    w = compiled.witness({"x0": np.array([[0.0, 2.0, 1.5]])}, check=True)
    for call in range(2):
        _refused(compiled, w.values, "is_zero", 1, call)
