"""Nonlinear and comparison ops: certified approximations, one-node ONNX models against
onnxruntime within the stored error bound, exact constraint counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.errors import LoweringError
from circuits.onnx.examples import mlp, single_op
from circuits.onnx.quant import QuantConfig, dequantize, quantize
from tests.circuits.onnx.onnx_harness import (
    HALF_STEP,
    against_ort,
    compile_model,
    node_cost,
    rand,
    reference,
)

FEW = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


LIPSCHITZ = {"Sigmoid": 0.25, "Tanh": 1.0, "Softplus": 1.0}


@FEW
@given(
    seed=seeds,
    shape=shapes,
    op=st.sampled_from(sorted(LIPSCHITZ)),
    scale=st.sampled_from([1.0, 6.0, 20.0]),
)
def test_smooth_ops(seed: int, shape: tuple[int, ...], op: str, scale: float) -> None:
    compiled, _, stored = against_ort(
        single_op(op, [shape]), {"x0": rand(seed, *shape, scale=scale)}, LIPSCHITZ[op]
    )
    assert stored <= 1.5e-5  # certified: within 1e-4 of the exact function with room to spare
    (entry,) = compiled.approximations
    assert node_cost(compiled, op) == int(np.prod(shape)) * entry["constraints_per_element"]


@FEW
@given(seed=seeds, shape=shapes, scale=st.sampled_from([1.0, 4.0, 7.9]))
def test_exp_on_a_bounded_domain(seed: int, shape: tuple[int, ...], scale: float) -> None:
    """Inputs in [-8, 8) (20 input bits): e^x up to 2981, checked against e^(quantized x)
    with the stored error relative to max(1, e^x)."""
    cfg = QuantConfig(input_bits=20)
    x = rand(seed, *shape, scale=scale)
    model = single_op("Exp", [shape])
    compiled = compile_model(model, cfg)
    w = compiled.witness({"x0": x}, check=True)
    got = compiled.outputs_from_public(w.public)["y0"]
    (entry,) = compiled.approximations
    want = np.exp(dequantize(quantize(x, 16), 16))  # e^x at the circuit's own input
    assert np.all(np.abs(got - want) <= entry["max_scaled_error"] * np.maximum(1.0, want) + 1e-12)
    assert entry["max_scaled_error"] <= 1.2e-5
    ort = reference(model, {"x0": x})["y0"]
    assert np.all(np.abs(got - ort) <= 1.2e-5 * np.maximum(1.0, ort) + ort * 1.01 * HALF_STEP)


def test_exp_refuses_a_domain_whose_outputs_overflow() -> None:
    with pytest.raises(LoweringError, match=r"exp_node.*beyond the 128-bit accumulator"):
        compile_model(single_op("Exp", [(2,)]))


@FEW
@given(
    seed=seeds,
    shape=shapes,
    alpha=st.sampled_from([0.2, 0.5, -0.3]),
    beta=st.sampled_from([0.5, 0.1]),
)
def test_hard_sigmoid(seed: int, shape: tuple[int, ...], alpha: float, beta: float) -> None:
    model = single_op("HardSigmoid", [shape], alpha=alpha, beta=beta)
    against_ort(model, {"x0": rand(seed, *shape, scale=6.0)}, abs(alpha))


@FEW
@given(
    seed=seeds,
    shape=shapes,
    data=st.data(),
    opset=st.sampled_from([11, 13, 17]),
    op=st.sampled_from(["Softmax", "LogSoftmax"]),
)
def test_softmax_family(
    seed: int, shape: tuple[int, ...], data: st.DataObject, opset: int, op: str
) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    model = single_op(op, [shape], opset=opset, axis=axis)
    against_ort(model, {"x0": rand(seed, *shape, scale=4.0)}, 2.0)


def test_mlp_with_sigmoid_head_is_within_1e4_of_onnxruntime() -> None:
    model = mlp((32, 64, 32, 1), head="Sigmoid", seed=11)
    compiled = compile_model(model)
    for seed in range(6):
        x = rand(seed, 1, 32)
        w = compiled.witness({"x": x}, check=True)
        got = compiled.outputs_from_public(w.public)["y"]
        assert float(np.abs(got - reference(model, {"x": x})["y"]).max()) <= 1e-4
    (entry,) = compiled.approximations
    assert entry["max_abs_error"] <= 1.5e-5 and entry["method"] == "exhaustive"


@pytest.mark.parametrize("head", ["Softmax", "LogSoftmax", "Tanh", "Softplus"])
def test_heads_on_a_finer_input_share_the_rounding(head: str) -> None:
    """After a Gemm the input is at scale 32: the plan floors it inside its own
    decomposition and is fitted at the midpoints; still within the stored bound."""
    model = mlp((8, 16, 5), head=head, seed=2)
    for seed in range(3):
        compiled, _, _ = against_ort(model, {"x": rand(seed, 1, 8, scale=2.0)}, 2.0)
    assert [a["midpoint"] for a in compiled.approximations] == [True]


def test_the_error_report_of_a_compiled_model_lists_the_certified_bounds(tmp_path: Any) -> None:
    from circuits.model_compile import compile_model as compile_dir

    path = tmp_path / "m.onnx"
    onnx.save(mlp((4, 8, 1), head="Sigmoid", seed=1), str(path))
    manifest = compile_dir(path, tmp_path / "out")
    (entry,) = manifest.error["approximations"]
    assert entry["node"] == "sigmoid" and entry["function"] == "sigmoid"
    assert 0 < entry["max_abs_error"] <= 1.5e-5
    assert manifest.error["max_abs_err"] <= entry["max_abs_error"] + 2.0**-16


@FEW
@given(seed=seeds, shape=shapes, data=st.data(), op=st.sampled_from(["ArgMax", "ArgMin"]))
def test_argmax_with_ties(seed: int, shape: tuple[int, ...], data: st.DataObject, op: str) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    keep, last = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))
    x = (np.random.default_rng(seed).integers(-3, 4, shape) / 4).astype(np.float32)  # many ties
    model = single_op(op, [shape], axis=axis, keepdims=keep, select_last_index=last)
    against_ort(model, {"x0": x})


@FEW
@given(seed=seeds, shape=shapes, mask=st.integers(0, 7), op=st.sampled_from(["Max", "Min"]))
def test_max_min_broadcast_with_constant(
    seed: int, shape: tuple[int, ...], mask: int, op: str
) -> None:
    other = tuple(1 if mask >> i & 1 else d for i, d in enumerate(shape))
    model = single_op(op, [shape, other], constants={"c": np.float32(0.25)})
    against_ort(model, {"x0": rand(seed, *shape), "x1": rand(seed + 1, *other)}, 1.0)


@FEW
@given(
    seed=seeds,
    shape=shapes,
    lo=st.sampled_from([None, -0.5, -9.0]),
    hi=st.sampled_from([None, 0.75, 9.0]),
)
def test_clip(seed: int, shape: tuple[int, ...], lo: float | None, hi: float | None) -> None:
    consts = {k: np.float32(v) for k, v in (("lo", lo), ("hi", hi)) if v is not None}
    order = ["x0", "lo" if lo is not None else "", "hi" if hi is not None else ""]
    model = single_op("Clip", [shape], constants=consts, order=order)
    against_ort(model, {"x0": rand(seed, *shape, scale=2.0)}, 2.0)


@FEW
@given(seed=seeds, shape=shapes, alpha=st.sampled_from([0.01, 0.2, 1.5, -0.4]))
def test_leaky_relu_and_abs(seed: int, shape: tuple[int, ...], alpha: float) -> None:
    x = rand(seed, *shape, scale=3.0)
    against_ort(single_op("LeakyRelu", [shape], alpha=alpha), {"x0": x}, max(1.0, abs(alpha)))
    against_ort(single_op("Abs", [shape]), {"x0": x}, 1.0)


@FEW
@given(seed=seeds, c=st.integers(1, 3), slope=st.sampled_from(["scalar", "channel", "full"]))
def test_prelu(seed: int, c: int, slope: str) -> None:
    shape = (2, c, 3)
    rng = np.random.default_rng(seed)
    s_shape = {"scalar": (1,), "channel": (c, 1), "full": shape}[slope]
    s = rng.uniform(-0.5, 0.5, s_shape).astype(np.float32)
    against_ort(
        single_op("PRelu", [shape], constants={"slope": s}),
        {"x0": rand(seed, *shape, scale=3.0)},
        1.0,
    )


@FEW
@given(
    seed=seeds,
    size=st.integers(3, 6),
    k=st.integers(2, 3),
    stride=st.integers(1, 2),
    pad=st.integers(0, 1),
    ceil=st.integers(0, 1),
)
def test_maxpool(seed: int, size: int, k: int, stride: int, pad: int, ceil: int) -> None:
    shape = (1, 2, size, size + 1)
    model = single_op(
        "MaxPool",
        [shape],
        kernel_shape=[k, k],
        strides=[stride, stride],
        pads=[pad] * 4,
        ceil_mode=ceil,
    )
    against_ort(model, {"x0": rand(seed, *shape, scale=2.0)}, 1.0)


@FEW
@given(
    seed=seeds,
    shape=shapes,
    data=st.data(),
    op=st.sampled_from(["ReduceMax", "ReduceMin"]),
    opset=st.sampled_from([17, 18]),
)
def test_reduce_max_min(
    seed: int, shape: tuple[int, ...], data: st.DataObject, op: str, opset: int
) -> None:
    axes = data.draw(
        st.lists(
            st.integers(-len(shape), len(shape) - 1),
            max_size=len(shape),
            unique_by=lambda a: a % len(shape),
        )
    )
    keep = data.draw(st.integers(0, 1))
    if opset >= 18:
        model = single_op(
            op, [shape], constants={"axes": np.array(axes, np.int64)}, opset=opset, keepdims=keep
        )
    else:
        model = single_op(
            op,
            [shape],
            opset=opset,
            keepdims=keep,
            **({"axes": axes} if axes else {}),  # type: ignore[arg-type]
        )
    against_ort(model, {"x0": rand(seed, *shape, scale=2.0)}, 1.0)
