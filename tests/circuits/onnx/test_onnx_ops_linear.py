"""Gemm, MatMul, Conv and BatchNormalization, one node each, against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from circuits.onnx.examples import _model, mlp, single_op
from tests.circuits.onnx.onnx_harness import ULP, check_model, rand

FEW = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)


@FEW
@given(
    seed=seeds,
    m=st.integers(1, 3),
    k=st.integers(1, 6),
    n=st.integers(1, 5),
    trans_a=st.integers(0, 1),
    trans_b=st.integers(0, 1),
    alpha=st.sampled_from([1.0, 0.5, -1.25]),
    beta=st.sampled_from([1.0, 2.0]),
    bias=st.sampled_from(["none", "row", "full"]),
)
def test_gemm(
    seed: int,
    m: int,
    k: int,
    n: int,
    trans_a: int,
    trans_b: int,
    alpha: float,
    beta: float,
    bias: str,
) -> None:
    a_shape = (k, m) if trans_a else (m, k)
    w = rand(seed + 1, *((n, k) if trans_b else (k, n)))
    consts = {"w": w}
    if bias != "none":
        consts["c"] = rand(seed + 2, *((n,) if bias == "row" else (m, n)))
    model = single_op(
        "Gemm", [a_shape], constants=consts, alpha=alpha, beta=beta, transA=trans_a, transB=trans_b
    )
    compiled, _ = check_model(model, {"x0": rand(seed, *a_shape)}, tol=(k + 4) * ULP)
    assert next(nd for nd in compiled.nodes if nd.op_type == "Gemm").constraints == 0


@FEW
@given(
    seed=seeds,
    batch=st.sampled_from([(), (2,), (2, 1)]),
    m=st.integers(1, 3),
    k=st.integers(1, 5),
    n=st.integers(1, 4),
)
def test_matmul_with_constant_right(
    seed: int, batch: tuple[int, ...], m: int, k: int, n: int
) -> None:
    model = single_op("MatMul", [(*batch, m, k)], constants={"w": rand(seed + 1, k, n)})
    check_model(model, {"x0": rand(seed, *batch, m, k)}, tol=(k + 4) * ULP)


@FEW
@given(seed=seeds, m=st.integers(1, 3), k=st.integers(1, 5), n=st.integers(1, 4))
def test_matmul_with_constant_left(seed: int, m: int, k: int, n: int) -> None:
    model = single_op("MatMul", [(k, n)], constants={"w": rand(seed + 1, m, k)}, order=["w", "x0"])
    check_model(model, {"x0": rand(seed, k, n)}, tol=(k + 4) * ULP)


@pytest.mark.parametrize(("a", "b"), [((3,), (3, 2)), ((2, 3), (3,)), ((4,), (4,))])
def test_matmul_one_dimensional(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    model = single_op("MatMul", [a], constants={"w": rand(9, *b)})
    check_model(model, {"x0": rand(8, *a)}, tol=8 * ULP)


def test_matmul_of_two_inputs() -> None:
    model = single_op("MatMul", [(2, 3), (3, 4)])
    compiled, _ = check_model(model, {"x0": rand(1, 2, 3), "x1": rand(2, 3, 4)}, tol=8 * ULP)
    node = next(nd for nd in compiled.nodes if nd.op_type == "MatMul")
    assert node.constraints == 2 * 3 * 4  # one product per multiply-add


@FEW
@given(
    seed=seeds,
    dims=st.integers(1, 2),
    c=st.integers(1, 3),
    group=st.integers(1, 2),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    dilation=st.integers(1, 2),
    pad=st.integers(0, 2),
    bias=st.booleans(),
)
def test_conv(
    seed: int,
    dims: int,
    c: int,
    group: int,
    k: int,
    stride: int,
    dilation: int,
    pad: int,
    bias: bool,
) -> None:
    c_in, m_out, size = c * group, 2 * group, 6
    x_shape = (1, c_in) + (size,) * dims
    consts = {"w": rand(seed + 1, m_out, c, *(k,) * dims)}
    if bias:
        consts["b"] = rand(seed + 2, m_out)
    model = single_op(
        "Conv",
        [x_shape],
        constants=consts,
        group=group,
        strides=[stride] * dims,
        dilations=[dilation] * dims,
        pads=[pad] * (2 * dims),
        kernel_shape=[k] * dims,
    )
    check_model(model, {"x0": rand(seed, *x_shape)}, tol=(c * k**dims + 4) * ULP)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad(auto_pad: str) -> None:
    model = single_op(
        "Conv",
        [(1, 2, 5, 5)],
        constants={"w": rand(3, 3, 2, 2, 3)},
        auto_pad=auto_pad,
        strides=[2, 1],
    )
    check_model(model, {"x0": rand(4, 1, 2, 5, 5)}, tol=16 * ULP)


def test_batchnorm_alone() -> None:
    consts = {
        "s": rand(1, 3) + 1.5,
        "b": rand(2, 3),
        "mean": rand(3, 3),
        "var": np.abs(rand(4, 3)) + 0.5,
    }
    model = single_op("BatchNormalization", [(1, 3, 2, 2)], constants=consts, epsilon=1e-3)
    check_model(model, {"x0": rand(5, 1, 3, 2, 2)}, tol=8 * ULP)


def _conv_bn() -> object:
    inits = [
        numpy_helper.from_array(rand(1, 3, 2, 3, 3), "w"),
        numpy_helper.from_array(rand(2, 3), "cb"),
        numpy_helper.from_array(rand(3, 3) + 1.5, "s"),
        numpy_helper.from_array(rand(4, 3), "b"),
        numpy_helper.from_array(rand(5, 3), "mean"),
        numpy_helper.from_array(np.abs(rand(6, 3)) + 0.5, "var"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "cb"], ["c"], name="conv"),
        helper.make_node("BatchNormalization", ["c", "s", "b", "mean", "var"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["y"], name="relu"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])
    return _model(nodes, [x], [helper.make_empty_tensor_value_info("y")], inits, "conv_bn")


def test_batchnorm_folded_into_conv() -> None:
    compiled, _ = check_model(_conv_bn(), {"x": rand(7, 1, 2, 5, 5)}, tol=32 * ULP)  # type: ignore[arg-type]
    ops = [n.op_type for n in compiled.nodes]
    assert "BatchNormalization" not in ops and "Conv" in ops
    relu = next(n for n in compiled.nodes if n.op_type == "Relu")
    # folded: the ReLU rescales by weight_scale bits only, so <= 40 per element (3 x 3 x 3)
    assert relu.constraints <= 27 * 40


def test_dense_rescale_relu_costs_at_most_40_per_neuron() -> None:
    compiled, _ = check_model(mlp((8, 16, 1)), {"x": rand(3, 1, 8)}, tol=1e-4)
    relu = next(n for n in compiled.nodes if n.op_type == "Relu")
    gemm = next(n for n in compiled.nodes if n.op_type == "Gemm")
    assert gemm.constraints == 0
    assert relu.constraints <= 40 * 16
