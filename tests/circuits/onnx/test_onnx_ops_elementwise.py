"""Elementwise ops, one node each, against onnxruntime (hypothesis shapes and values)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto

from circuits.errors import UnsupportedOpError
from circuits.onnx.compiler import CompiledModel
from circuits.onnx.examples import single_op
from tests.circuits.onnx.onnx_harness import ULP, check_model, rand

FEW = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _broadcast_partner(shape: tuple[int, ...], mask: int) -> tuple[int, ...]:
    """A shape that broadcasts against `shape`: some axes set to 1, maybe fewer axes."""
    out = tuple(1 if mask >> i & 1 else d for i, d in enumerate(shape))
    return out[mask % 2 :] if len(out) > 1 else out


@FEW
@given(seed=seeds, shape=shapes, mask=st.integers(0, 7), op=st.sampled_from(["Add", "Sub", "Mul"]))
def test_binary_with_constant(seed: int, shape: tuple[int, ...], mask: int, op: str) -> None:
    c = rand(seed + 1, *_broadcast_partner(shape, mask), scale=2.0)
    model = single_op(op, [shape], constants={"c": c})
    compiled, _ = check_model(model, {"x0": rand(seed, *shape)}, tol=4 * ULP)
    assert compiled.circuit.cs.n_constraints == _io_cost(compiled)  # free: no constraint


@FEW
@given(seed=seeds, shape=shapes, op=st.sampled_from(["Add", "Sub", "Mul"]))
def test_constant_on_the_left(seed: int, shape: tuple[int, ...], op: str) -> None:
    model = single_op(op, [shape], constants={"c": rand(seed + 1, *shape)}, order=["c", "x0"])
    check_model(model, {"x0": rand(seed, *shape)}, tol=4 * ULP)


def _io_cost(compiled: CompiledModel) -> int:
    return sum(n.constraints for n in compiled.nodes if n.op_type in ("Input", "Output"))


@FEW
@given(seed=seeds, shape=shapes, mask=st.integers(0, 7), op=st.sampled_from(["Add", "Sub", "Mul"]))
def test_binary_of_two_inputs(seed: int, shape: tuple[int, ...], mask: int, op: str) -> None:
    other = _broadcast_partner(shape, mask)
    model = single_op(op, [shape, other])
    compiled, _ = check_model(
        model, {"x0": rand(seed, *shape), "x1": rand(seed + 1, *other)}, tol=4 * ULP
    )
    node = next(n for n in compiled.nodes if n.op_type == op)
    if op != "Mul":
        assert node.constraints == 0


def test_mul_of_two_inputs_costs_one_constraint_per_element() -> None:
    model = single_op("Mul", [(2, 3), (2, 3)])
    compiled, _ = check_model(model, {"x0": rand(1, 2, 3), "x1": rand(2, 2, 3)}, tol=4 * ULP)
    assert next(n for n in compiled.nodes if n.op_type == "Mul").constraints == 6


@FEW
@given(seed=seeds, shape=shapes)
def test_div_by_constant(seed: int, shape: tuple[int, ...]) -> None:
    c = rand(seed + 1, *shape, scale=3.0)
    c = np.where(np.abs(c) < 0.25, 0.5, c).astype(np.float32)
    check_model(
        single_op("Div", [shape], constants={"c": c}), {"x0": rand(seed, *shape)}, tol=8 * ULP
    )


def test_div_by_power_of_two_is_exact() -> None:
    x = rand(3, 5)
    compiled, _ = check_model(
        single_op("Div", [(5,)], constants={"c": np.float32(4.0)}), {"x0": x}, tol=ULP
    )
    assert compiled.nodes[1].constraints == 0


def test_integer_division_by_constant_int_truncates() -> None:
    model = single_op("Div", [(3,)], constants={"c": np.array([2, -2, 3], dtype=np.int32)})
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.INT32
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.INT32
    check_model(model, {"x0": np.array([7, 7, -7])}, tol=0.0)


@FEW
@given(seed=seeds, shape=shapes, op=st.sampled_from(["Neg", "Relu", "Identity"]))
def test_unary(seed: int, shape: tuple[int, ...], op: str) -> None:
    check_model(single_op(op, [shape]), {"x0": rand(seed, *shape, scale=5.0)}, tol=ULP)


def test_relu_at_activation_scale_costs_bits_plus_two() -> None:
    compiled, _ = check_model(
        single_op("Relu", [(4,)]), {"x0": np.array([-1, 0, 0.5, 3], np.float32)}, tol=ULP
    )
    relu = next(n for n in compiled.nodes if n.op_type == "Relu")
    # |x| <= 2^23 needs a 25-bit signed decomposition (26 constraints), then sign * x
    assert relu.constraints == 4 * (25 + 1 + 1)


@FEW
@given(seed=seeds, shape=shapes, n=st.integers(1, 4))
def test_sum(seed: int, shape: tuple[int, ...], n: int) -> None:
    feeds = {f"x{i}": rand(seed + i, *shape) for i in range(n)}
    check_model(single_op("Sum", [shape] * n), feeds, tol=n * ULP)


def test_dropout_is_identity_in_inference() -> None:
    model = single_op("Dropout", [(2, 3)], constants={"ratio": np.float32(0.5)})
    check_model(model, {"x0": rand(4, 2, 3)}, tol=ULP)


@pytest.mark.parametrize("to", [TensorProto.FLOAT, TensorProto.DOUBLE])
def test_cast_to_float(to: int) -> None:
    check_model(single_op("Cast", [(3,)], to=to), {"x0": rand(5, 3)}, tol=ULP)


def test_cast_to_string_is_unsupported_and_names_node() -> None:
    with pytest.raises(UnsupportedOpError, match=r"'Cast'.*cast_node.*opset 17.*STRING"):
        check_model(single_op("Cast", [(3,)], to=TensorProto.STRING), {"x0": rand(5, 3)}, tol=1)
