"""Roots, reciprocals, logs, powers, divisions, reductions and normalizations against
onnxruntime (witness only, every constraint checked), and forged witnesses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.errors import QuantOverflowError, UnsupportedOpError
from circuits.onnx.examples import single_op
from circuits.testing import hint_outputs, replay
from tests.circuits.onnx.onnx_harness import against_ort, check_model, compile_model, rand

FAST = settings(max_examples=8, deadline=None)


def pos(seed: int, *shape: int, lo: float = 0.05, hi: float = 4.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


@FAST
@given(st.integers(0, 2**16))
def test_sqrt(seed: int) -> None:
    x = pos(seed, 2, 5, lo=0.01)  # near 0, sqrt magnifies the input's rounding
    x.reshape(-1)[0] = 0.0
    check_model(single_op("Sqrt", [(2, 5)]), {"x0": x}, 5e-5)


@FAST
@given(st.integers(0, 2**16))
def test_reciprocal_and_div(seed: int) -> None:
    x = pos(seed, 2, 4, lo=0.25) * np.where(rand(seed, 2, 4) > 0, 1, -1)
    # 1/x magnifies the input's rounding (2^-17) by up to 1/x^2 = 16 here
    check_model(single_op("Reciprocal", [(2, 4)]), {"x0": x}, 3e-4)
    a = rand(seed + 1, 2, 4, scale=3.0)
    check_model(single_op("Div", [(2, 4), (2, 4)]), {"x0": a, "x1": x}, 1e-3)


def test_division_by_zero_has_no_witness() -> None:
    compiled = compile_model(single_op("Reciprocal", [(1, 2)]))
    with pytest.raises(QuantOverflowError, match=r"reciprocal_node.*a division by zero"):
        compiled.witness({"x0": np.array([[1.0, 0.0]])})


@FAST
@given(st.integers(0, 2**16))
def test_log(seed: int) -> None:
    # Log's slope is 1/x: near the low end (0.01) half an input step of rounding moves the
    # result by up to 100 half steps, which the bound must include.
    x = pos(seed, 2, 4, lo=0.01, hi=30.0)
    against_ort(single_op("Log", [(2, 4)]), {"x0": x}, lip=1 / float(x.min()))


@pytest.mark.parametrize("y", [2.0, 3.0, 0.5, -1.0, -0.5])
def test_pow_constant_exponent(y: float) -> None:
    model = single_op("Pow", [(2, 3)], constants={"y": np.array(y, dtype=np.float32)})
    x = pos(3, 2, 3, lo=0.5, hi=2.0)
    check_model(model, {"x0": x}, 2e-4)


def test_pow_computed_exponent_is_named() -> None:
    model = single_op("Pow", [(2, 3), (2, 3)])
    with pytest.raises(UnsupportedOpError, match=r"'Pow'.*exponent computed from the model"):
        compile_model(model)


REDUCE = ["ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceProd", "ReduceLogSumExp"]


@pytest.mark.parametrize("op", REDUCE)
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reductions(op: str, keepdims: int) -> None:
    model = single_op(op, [(3, 4)], axes=[1], keepdims=keepdims)
    x = rand(5, 3, 4, scale=1.5)
    check_model(model, {"x0": x}, 2e-4)


def test_mean() -> None:
    check_model(
        single_op("Mean", [(2, 3), (2, 3), (1, 3)]),
        {f"x{i}": rand(i, *s) for i, s in enumerate([(2, 3), (2, 3), (1, 3)])},
        1e-4,
    )


@FAST
@given(st.integers(0, 2**16), st.sampled_from([0, 1]), st.integers(1, 5))
def test_topk(seed: int, largest: int, k: int) -> None:
    x = np.round(rand(seed, 2, 5) * 8) / 8  # ties are common on this grid
    model = single_op(
        "TopK", [(2, 5)], constants={"k": np.array([k])}, n_outputs=2, largest=largest
    )
    check_model(model, {"x0": x}, 1e-9)


def test_topk_choice_cannot_be_forged() -> None:
    model = single_op("TopK", [(1, 4)], constants={"k": np.array([2])}, n_outputs=2)
    compiled = compile_model(model)
    w = compiled.witness({"x0": np.array([[0.5, -1.0, 2.0, 0.25]])}, check=True)
    (onehot,) = hint_outputs(compiled.circuit, "topk_onehot")
    # swap the first choice (index 2) for index 0
    forged = replay(compiled.circuit, w.values, {onehot[2]: 0, onehot[0]: 1})
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


@pytest.mark.parametrize("shape,axis", [((2, 3, 8), -1), ((2, 6), 1), ((1, 3, 4), 1)])
def test_layer_normalization(shape: tuple[int, ...], axis: int) -> None:
    norm = shape[axis % len(shape) :]
    scale = np.linspace(0.5, 1.5, int(np.prod(norm))).reshape(norm).astype(np.float32)
    bias = np.linspace(-0.2, 0.2, int(np.prod(norm))).reshape(norm).astype(np.float32)
    model = single_op("LayerNormalization", [shape], constants={"s": scale, "b": bias}, axis=axis)
    check_model(model, {"x0": rand(1, *shape, scale=2.0)}, 5e-4)


def test_layer_normalization_constant_row() -> None:
    model = single_op("LayerNormalization", [(1, 4)], constants={"s": np.ones(4), "b": np.zeros(4)})
    check_model(model, {"x0": np.full((1, 4), 0.75)}, 1e-4)


def test_instance_normalization() -> None:
    c = 3
    model = single_op(
        "InstanceNormalization",
        [(2, c, 4, 4)],
        constants={"s": np.array([1.0, 0.5, 2.0]), "b": np.array([0.0, 0.1, -0.3])},
    )
    check_model(model, {"x0": rand(2, 2, c, 4, 4)}, 1e-3)


def test_normalization_root_cannot_be_forged() -> None:
    model = single_op("LayerNormalization", [(1, 4)], constants={"s": np.ones(4), "b": np.zeros(4)})
    compiled = compile_model(model)
    w = compiled.witness({"x0": np.array([[0.1, -0.4, 1.0, 0.3]])}, check=True)
    ((root,),) = hint_outputs(compiled.circuit, "isqrt_floor")
    forged = replay(compiled.circuit, w.values, {root: w.values[root] + 1})
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None
