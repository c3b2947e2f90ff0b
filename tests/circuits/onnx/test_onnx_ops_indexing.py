"""Rounding, sign and the element-moving operators against onnxruntime (witness only)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from circuits.errors import UnsupportedOpError
from circuits.onnx.examples import single_op
from circuits.testing import hint_outputs, replay
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand

FAST = settings(max_examples=10, deadline=None)


def grid(seed: int, *shape: int, scale: float = 4.0) -> np.ndarray:
    """Values on a 2^-6 grid (exact at every scale used), with halves and integers."""
    x = np.round(rand(seed, *shape, scale=scale) * 64) / 64
    flat = x.reshape(-1)
    flat[:4] = [0.5, -0.5, 2.5, -3.0][: flat.size]
    return x


@FAST
@given(st.sampled_from(["Floor", "Ceil", "Round", "Sign"]), st.integers(0, 2**16))
def test_rounding_matches_onnxruntime(op: str, seed: int) -> None:
    check_model(single_op(op, [(3, 5)]), {"x0": grid(seed, 3, 5)}, 0.0)


def test_round_tie_cannot_be_forged() -> None:
    """Claiming 'no tie' for 2.5 (so that it would round to 3) breaks a constraint."""
    compiled = compile_model(single_op("Round", [(1, 4)]))
    w = compiled.witness({"x0": np.array([[2.5, 0.5, -1.5, 1.25]])}, check=True)
    (first, *_) = hint_outputs(compiled.circuit, "is_zero")
    out, _ = first
    forged = replay(compiled.circuit, w.values, {out: 0})
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


CASES = [
    ("Expand", [(3, 1)], {"s": np.array([2, 3, 4])}, {}),
    ("Tile", [(2, 3)], {"r": np.array([2, 1])}, {}),
    ("DepthToSpace", [(1, 8, 2, 3)], {}, {"blocksize": 2}),
    ("DepthToSpace", [(1, 8, 2, 3)], {}, {"blocksize": 2, "mode": "CRD"}),
    ("SpaceToDepth", [(1, 2, 4, 6)], {}, {"blocksize": 2}),
    ("GatherElements", [(3, 4)], {"i": np.array([[0, 2], [1, -1], [3, 0]])}, {"axis": 1}),
    ("CumSum", [(2, 5)], {"a": np.array(1)}, {}),
    ("CumSum", [(2, 5)], {"a": np.array(-1)}, {"exclusive": 1, "reverse": 1}),
    ("Pad", [(2, 4)], {"p": np.array([1, 2, 1, 3])}, {"mode": "reflect"}),
    ("Pad", [(2, 4)], {"p": np.array([1, 2, 1, 3])}, {"mode": "edge"}),
    (
        "ScatterElements",
        [(3, 3), (1, 2)],
        {"i": np.array([[1, 0]])},
        {"axis": 0},
    ),
    (
        "ScatterElements",
        [(3, 3), (2, 2)],
        {"i": np.array([[1, 1], [1, 2]])},
        {"axis": 1, "reduction": "add"},
    ),
]


@pytest.mark.parametrize(
    "op,shapes,consts,attrs", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)]
)
def test_moves_match_onnxruntime(
    op: str, shapes: list[Any], consts: dict[str, Any], attrs: dict[str, Any]
) -> None:
    order = None
    if op.startswith("Scatter"):
        order = ["x0", "i", "x1"]
    model = single_op(op, shapes, constants=consts, order=order, **attrs)
    feeds = {f"x{i}": rand(i + 1, *s) for i, s in enumerate(shapes)}
    compiled, _ = check_model(model, feeds, 1e-4)
    assert compiled.nodes[1].constraints == 0


def test_split_outputs() -> None:
    model = single_op("Split", [(2, 6)], constants={"s": np.array([1, 2, 3])}, n_outputs=3, axis=1)
    check_model(model, {"x0": rand(0, 2, 6)}, 1e-4)


def test_scatter_nd() -> None:
    model = single_op(
        "ScatterND",
        [(4, 3), (2, 3)],
        constants={"i": np.array([[3], [1]])},
        order=["x0", "i", "x1"],
    )
    check_model(model, {"x0": rand(1, 4, 3), "x1": rand(2, 2, 3)}, 1e-4)


def test_computed_indices_are_refused_by_name() -> None:
    from onnx import TensorProto, helper

    from circuits.onnx.examples import _model

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    i = helper.make_tensor_value_info("i", TensorProto.INT64, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1, name="ge")
    model = _model([node], [x, i], [y], [], "g")
    with pytest.raises(UnsupportedOpError, match=r"'GatherElements' \(node 'ge'.*'indices'"):
        compile_model(model)


@pytest.mark.parametrize("to", [TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL])
def test_cast_to_integer_truncates(to: int) -> None:
    model = single_op("Cast", [(3, 5)], to=to)
    x = grid(11, 3, 5)
    x.reshape(-1)[4:8] = [-0.75, 0.75, -2.0, 0.0]
    check_model(model, {"x0": x}, 0.0)


@pytest.mark.parametrize("const", [False, True])
def test_integer_division_truncates(const: bool) -> None:
    from circuits.onnx.examples import _model

    a = helper.make_tensor_value_info("a", TensorProto.INT32, [6])
    ins = [a]
    inits = []
    if const:
        inits.append(helper.make_tensor("b", TensorProto.INT32, [6], [2, -2, 3, -3, 5, 7]))
    else:
        ins.append(helper.make_tensor_value_info("b", TensorProto.INT32, [6]))
    node = helper.make_node("Div", ["a", "b"], ["y"])
    y = helper.make_tensor_value_info("y", TensorProto.INT32, [6])
    model = _model([node], ins, [y], inits, "idiv")
    feeds = {"a": np.array([7, 7, -7, -7, 10, -1])}
    if not const:
        feeds["b"] = np.array([2, -2, 3, -3, 5, 7])
    compiled, _ = check_model(model, feeds, 0.0)
    if not const:  # a lying floor hint breaks the remainder check
        w = compiled.witness(feeds, check=True)
        (q,) = hint_outputs(compiled.circuit, "floor_div_var")[0]
        forged = replay(compiled.circuit, w.values, {q: w.values[q] + 1})
        assert compiled.circuit.cs.first_unsatisfied(forged) is not None
