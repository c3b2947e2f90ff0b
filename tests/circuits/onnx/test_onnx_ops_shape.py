"""Shape ops, reductions and pooling, one node each, against onnxruntime; constant folding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from circuits.onnx.examples import _model, single_op
from tests.circuits.onnx.onnx_harness import ULP, check_model, rand

FEW = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def _free(compiled: object, op: str) -> None:
    node = next(n for n in compiled.nodes if n.op_type == op)  # type: ignore[attr-defined]
    assert node.constraints == 0


@FEW
@given(seed=seeds, shape=shapes, axis=st.integers(-4, 4))
def test_flatten(seed: int, shape: tuple[int, ...], axis: int) -> None:
    axis = max(-len(shape), min(axis, len(shape)))
    compiled, _ = check_model(
        single_op("Flatten", [shape], axis=axis), {"x0": rand(seed, *shape)}, tol=ULP
    )
    _free(compiled, "Flatten")


@pytest.mark.parametrize(
    ("shape", "target"),
    [((2, 3, 4), (6, -1)), ((2, 3, 4), (0, 12)), ((24,), (2, 3, 4)), ((1, 6), (-1,))],
)
def test_reshape(shape: tuple[int, ...], target: tuple[int, ...]) -> None:
    model = single_op("Reshape", [shape], constants={"s": i64(*target)})
    check_model(model, {"x0": rand(1, *shape)}, tol=ULP)


@FEW
@given(seed=seeds, shape=shapes, data=st.data())
def test_transpose(seed: int, shape: tuple[int, ...], data: st.DataObject) -> None:
    perm = data.draw(st.permutations(range(len(shape))))
    check_model(
        single_op("Transpose", [shape], perm=list(perm)), {"x0": rand(seed, *shape)}, tol=ULP
    )


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze_both_opsets(opset: int) -> None:
    if opset >= 13:
        sq = single_op("Squeeze", [(1, 3, 1, 2)], constants={"a": i64(0, 2)}, opset=opset)
        un = single_op("Unsqueeze", [(3, 2)], constants={"a": i64(0, -1)}, opset=opset)
    else:
        sq = single_op("Squeeze", [(1, 3, 1, 2)], axes=[0, 2], opset=opset)
        un = single_op("Unsqueeze", [(3, 2)], axes=[0, 3], opset=opset)
    check_model(sq, {"x0": rand(1, 1, 3, 1, 2)}, tol=ULP)
    check_model(un, {"x0": rand(2, 3, 2)}, tol=ULP)


def test_squeeze_without_axes() -> None:
    check_model(single_op("Squeeze", [(1, 3, 1)]), {"x0": rand(1, 1, 3, 1)}, tol=ULP)


@FEW
@given(seed=seeds, axis=st.integers(0, 2), n=st.integers(1, 3), with_const=st.booleans())
def test_concat(seed: int, axis: int, n: int, with_const: bool) -> None:
    base = [2, 3, 2]
    shapes_ = [tuple(d + i if a == axis else d for a, d in enumerate(base)) for i in range(n)]
    consts = {"c": rand(seed + 9, *base)} if with_const else {}
    model = single_op("Concat", shapes_, constants=consts, axis=axis)
    check_model(model, {f"x{i}": rand(seed + i, *s) for i, s in enumerate(shapes_)}, tol=ULP)


@pytest.mark.parametrize(
    ("starts", "ends", "axes", "steps"),
    [
        ((0,), (2,), (0,), (1,)),
        ((1, -1), (100, -5), (1, 2), (1, -1)),
        ((-2,), (-100,), (2,), (-2,)),
        ((0, 1), (3, 3), None, None),
    ],
)
def test_slice(
    starts: tuple[int, ...],
    ends: tuple[int, ...],
    axes: tuple[int, ...] | None,
    steps: tuple[int, ...] | None,
) -> None:
    consts = {"s": i64(*starts), "e": i64(*ends)}
    if axes is not None:
        consts["a"] = i64(*axes)
    if steps is not None:
        consts["st"] = i64(*steps)
    model = single_op("Slice", [(3, 4, 5)], constants=consts)
    check_model(model, {"x0": rand(3, 3, 4, 5)}, tol=ULP)


@pytest.mark.parametrize(("axis", "idx"), [(0, [2, 0, -1]), (1, [[0, 1], [3, 3]]), (2, 1)])
def test_gather_constant_indices(axis: int, idx: object) -> None:
    model = single_op(
        "Gather", [(3, 4, 2)], constants={"i": np.array(idx, dtype=np.int64)}, axis=axis
    )
    check_model(model, {"x0": rand(4, 3, 4, 2)}, tol=ULP)


@pytest.mark.parametrize(
    ("pads", "value"), [((1, 0, 2, 1), 0.0), ((0, 2, 0, 0), 1.5), ((-1, 1, 0, -1), -0.25)]
)
def test_pad_constant(pads: tuple[int, ...], value: float) -> None:
    consts = {"p": i64(*pads), "v": np.float32(value)}
    model = single_op("Pad", [(3, 4)], constants=consts, mode="constant")
    check_model(model, {"x0": rand(6, 3, 4)}, tol=ULP)


@FEW
@given(
    seed=seeds,
    shape=shapes,
    keepdims=st.integers(0, 1),
    data=st.data(),
    op=st.sampled_from(["ReduceSum", "ReduceMean"]),
)
def test_reduce(
    seed: int, shape: tuple[int, ...], keepdims: int, data: st.DataObject, op: str
) -> None:
    axes = data.draw(
        st.lists(
            st.integers(-len(shape), len(shape) - 1),
            min_size=1,
            max_size=len(shape),
            unique_by=lambda a: a % len(shape),
        )
    )
    if op == "ReduceSum":
        model = single_op(op, [shape], constants={"a": i64(*axes)}, keepdims=keepdims)
    else:
        model = single_op(op, [shape], axes=axes, keepdims=keepdims)
    compiled, _ = check_model(model, {"x0": rand(seed, *shape)}, tol=int(np.prod(shape)) * ULP)
    _free(compiled, op)


@pytest.mark.parametrize(
    "attrs",
    [
        {"kernel_shape": [2, 2]},
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
        {"kernel_shape": [2, 3], "strides": [2, 2], "ceil_mode": 1},
        {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
        {"kernel_shape": [3, 3], "strides": [3, 2], "pads": [1, 0, 1, 1], "ceil_mode": 1},
        {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"},
    ],
)
def test_average_pool(attrs: dict[str, Any]) -> None:
    model = single_op("AveragePool", [(1, 2, 5, 6)], **attrs)
    compiled, _ = check_model(model, {"x0": rand(3, 1, 2, 5, 6)}, tol=2 * ULP)
    _free(compiled, "AveragePool")


def test_average_pool_1d() -> None:
    check_model(
        single_op("AveragePool", [(1, 2, 7)], kernel_shape=[3], strides=[2]),
        {"x0": rand(1, 1, 2, 7)},
        tol=2 * ULP,
    )


def test_global_average_pool() -> None:
    check_model(
        single_op("GlobalAveragePool", [(1, 3, 4, 5)]), {"x0": rand(2, 1, 3, 4, 5)}, tol=2 * ULP
    )


def test_shape_arithmetic_is_folded() -> None:
    """Shape -> Gather -> Unsqueeze -> Concat(-1) -> Reshape: the torch flatten idiom."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["r"]),
        helper.make_node(
            "Constant", [], ["k"], value=numpy_helper.from_array(np.array(2.0, dtype=np.float32))
        ),
        helper.make_node("Mul", ["r", "k"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(i64(0), "ax"),
        numpy_helper.from_array(i64(-1), "minus1"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3])
    model = _model(nodes, [x], [helper.make_empty_tensor_value_info("y")], inits, "fold")
    compiled, got = check_model(model, {"x": rand(5, 1, 2, 3)}, tol=ULP)
    assert got["y"].shape == (1, 6)
    assert sum(n.constraints for n in compiled.nodes if n.op_type not in ("Input", "Output")) == 0
