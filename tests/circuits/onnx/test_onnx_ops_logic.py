"""Comparisons, boolean logic and Where against onnxruntime, and their soundness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from circuits.errors import InputRangeError, LoweringError
from circuits.onnx.examples import _model, single_op
from circuits.testing import hint_outputs, replay
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand

FAST = settings(max_examples=12, deadline=None)
CMP = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]


def _cmp_where(op: str) -> object:
    """Where(op(a, b), a, b): the comparison's result feeds a selection."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node(op, ["a", "b"], ["c"]),
        helper.make_node("Where", ["c", "a", "b"], ["y"]),
        helper.make_node("Cast", ["c"], ["cf"], to=TensorProto.FLOAT),
    ]
    outs = [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
        helper.make_tensor_value_info("cf", TensorProto.FLOAT, [2, 3]),
    ]
    return _model(nodes, [a, b], outs, [], op)


@FAST
@given(st.sampled_from(CMP), st.integers(0, 2**16))
def test_comparisons_match_onnxruntime(op: str, seed: int) -> None:
    a = rand(seed, 2, 3)
    b = np.where(rand(seed + 1, 2, 3) > 0, a, rand(seed + 2, 2, 3))  # some ties
    # values on the 2^-16 grid compare exactly as float32 does
    a, b = (np.round(v * 2**12) / 2**12 for v in (a, b))
    check_model(_cmp_where(op), {"a": a, "b": b}, 1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", CMP)
def test_comparison_with_constant(op: str) -> None:
    model = single_op(op, [(1, 4)], constants={"c": np.array([0.25], dtype=np.float32)})
    cast = helper.make_node("Cast", ["y0"], ["z"], to=TensorProto.FLOAT)
    model.graph.node.append(cast)
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4]))
    check_model(model, {"x0": np.array([[-1.0, 0.25, 0.5, 0.0]])}, 0.0)


def _logic(op: str) -> object:
    ins = [helper.make_tensor_value_info(n, TensorProto.BOOL, [4]) for n in ("a", "b")]
    args = ["a"] if op == "Not" else ["a", "b"]
    nodes = [
        helper.make_node(op, args, ["c"]),
        helper.make_node("Cast", ["c"], ["y"], to=TensorProto.FLOAT),
    ]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    return _model(nodes, ins[: len(args)], [y], [], op)


@pytest.mark.parametrize("op", ["Not", "And", "Or", "Xor"])
def test_logic_truth_tables(op: str) -> None:
    feeds = {"a": np.array([0, 0, 1, 1]), "b": np.array([0, 1, 0, 1])}
    model = _logic(op)
    if op == "Not":
        feeds.pop("b")
    compiled, _ = check_model(model, feeds, 0.0)  # type: ignore[arg-type]
    n = compiled.circuit.cs.n_constraints
    assert n <= 40, n


def test_bool_input_must_be_boolean() -> None:
    compiled = compile_model(_logic("And"))  # type: ignore[arg-type]
    with pytest.raises(InputRangeError, match=r"'a'\[1\] = 2.0 is not a boolean"):
        compiled.quantize_inputs({"a": [0, 2, 1, 1], "b": [0, 0, 0, 0]})


def test_where_with_constant_branches() -> None:
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [3])
    inits = [
        helper.make_tensor("x", TensorProto.FLOAT, [3], [1.5, -2.0, 3.0]),
        helper.make_tensor("y", TensorProto.FLOAT, [1], [0.5]),
    ]
    node = helper.make_node("Where", ["c", "x", "y"], ["z"])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])
    model = _model([node], [c], [z], inits, "where")
    compiled, _ = check_model(model, {"c": np.array([1, 0, 1])}, 0.0)
    assert compiled.nodes[1].constraints == 0  # the blend is a free linear combination


def test_logic_refuses_non_boolean() -> None:
    model = single_op("Not", [(3,)])  # a float input: Not of it is not well typed in ONNX
    with pytest.raises(Exception):  # noqa: B017 - the checker or the lowering refuses
        compile_model(model)
    # a float tensor reaching And through a model the checker accepts does not exist, so
    # the lowering's own check is exercised directly
    from circuits.builder import Builder
    from circuits.onnx.context import LoweringContext, SharedState
    from circuits.onnx.ops.logic import boolean
    from circuits.onnx.quant import QuantConfig
    from circuits.onnx.tensor import QTensor

    ctx = LoweringContext(SharedState(Builder(), QuantConfig()), "And", "n", 17, ("y",))
    with pytest.raises(LoweringError, match="must be boolean"):
        boolean(ctx, QTensor(np.array([0], dtype=object), 16, 1 << 16), "A")


def test_comparison_bit_cannot_be_forged() -> None:
    """A prover that flips the comparison's result bit breaks a constraint."""
    model = _cmp_where("Less")
    compiled = compile_model(model)  # type: ignore[arg-type]
    feeds = {"a": rand(3, 2, 3), "b": rand(4, 2, 3)}
    w = compiled.witness(feeds, check=True)
    cs, circuit = compiled.circuit.cs, compiled.circuit
    bits_hints = hint_outputs(circuit, "bits")
    assert bits_hints
    top = bits_hints[0][-1]
    forged = replay(circuit, w.values, {top: 1 - w.values[top]})
    assert cs.first_unsatisfied(forged) is not None
