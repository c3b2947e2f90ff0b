"""Malicious witnesses for the nonlinear and comparison ops: a prover that lies about an
output (a neighbouring rounding, another index of a tie, a value that is not the max, a
flipped comparison) must leave the constraint system unsatisfied."""

from __future__ import annotations

import numpy as np
import pytest

from circuits.field import R
from circuits.onnx.examples import single_op
from circuits.onnx.quant import QuantConfig
from circuits.testing import replay
from tests.circuits.onnx.onnx_harness import (
    against_ort,
    assert_lie_rejected,
    assert_max_lies_rejected,
    bits_of,
    hint_calls,
    rand,
    rounding_width,
    shift_rounding,
)


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh", "Softplus", "Exp"])
def test_smooth_op_rejects_an_output_one_step_off(op: str) -> None:
    """A prover claiming the neighbouring output (valid bits, quotient one higher or
    lower, same remainder) is caught by the rounding's recomposition."""
    bits = 20 if op == "Exp" else 24
    model = single_op(op, [(3,)])
    x = np.array([-0.7, 0.1, 2.2], np.float32)
    compiled, honest, _ = against_ort(model, {"x0": x}, 10.0, QuantConfig(input_bits=bits))
    shift, width = rounding_width(op.lower(), 16, 1 << (bits - 1))
    for by in (1 << shift, -(1 << shift)):
        assert_lie_rejected(compiled, honest, shift_rounding(compiled, honest, width, by))


def test_argmax_rejects_another_index_of_a_tie() -> None:
    x = np.array([[0.5, 1.0, -1.0, 1.0]], np.float32)
    for last in (0, 1):
        compiled, honest, _ = against_ort(
            single_op("ArgMax", [x.shape], axis=1, select_last_index=last), {"x0": x}
        )
        ((_, onehot),) = hint_calls(compiled, "argmax_onehot")
        for wrong in (0, 3 if last == 0 else 1, 2):
            assert_lie_rejected(
                compiled, honest, {w: int(i == wrong) for i, w in enumerate(onehot)}
            )


def test_reduce_max_rejects_a_max_that_is_not_the_max() -> None:
    x = rand(9, 2, 40, scale=2.0)  # 40 values per row: the hint route beats a tournament
    compiled, honest, _ = against_ort(single_op("ReduceMax", [x.shape], axes=[1]), {"x0": x}, 1.0)
    assert_max_lies_rejected(compiled, honest)


def test_max_tree_rejects_a_flipped_comparison() -> None:
    x = np.array([[[[0.5, -1.0], [0.25, 2.0]]]], np.float32)
    compiled, honest, _ = against_ort(
        single_op("MaxPool", [x.shape], kernel_shape=[2, 2]), {"x0": x}
    )
    n = 26  # inputs |x| <= 2^23 are 25-bit signed: less_than decomposes a - b + 2^25
    for _, outs in hint_calls(compiled, "bits", n=n):
        value = sum(honest[w] << i for i, w in enumerate(outs))
        forced = dict(zip(outs, bits_of(value ^ (1 << (n - 1)), n), strict=True))
        forged = replay(compiled.circuit, honest, forced)
        if (
            forged[1 : compiled.circuit.cs.n_public + 1]
            != honest[1 : compiled.circuit.cs.n_public + 1]
        ):
            assert compiled.circuit.cs.first_unsatisfied(forged) is not None
            return
    raise AssertionError("no comparison flip changed the output")


def test_softmax_rejects_a_wrong_max_and_a_wrong_quotient() -> None:
    x = rand(4, 1, 5, scale=2.0)
    compiled, honest, _ = against_ort(single_op("Softmax", [x.shape]), {"x0": x}, 2.0)
    assert_max_lies_rejected(compiled, honest, changes_output=False)
    (_, (q,)), *_ = hint_calls(compiled, "div_round_var")
    for by in (1, -1):
        assert_lie_rejected(compiled, honest, {q: (honest[q] + by) % R})


def test_log_softmax_rejects_a_wrong_exponent_and_a_wrong_max() -> None:
    x = rand(6, 2, 7, scale=3.0)
    compiled, honest, _ = against_ort(single_op("LogSoftmax", [x.shape]), {"x0": x}, 2.0)
    assert_max_lies_rejected(compiled, honest, changes_output=False)
    (_, onehot), *_ = hint_calls(compiled, "msb_onehot")
    at = next(i for i, w in enumerate(onehot) if honest[w] == 1)
    for wrong in {max(at - 1, 0), min(at + 1, len(onehot) - 1)} - {at}:
        assert_lie_rejected(compiled, honest, {w: int(i == wrong) for i, w in enumerate(onehot)})


FLIPPABLE = {
    "LeakyRelu": lambda: single_op("LeakyRelu", [(3,)]),
    "PRelu": lambda: single_op(
        "PRelu", [(3,)], constants={"s": np.array([0.1, -0.2, 0.3], np.float32)}
    ),
    "Abs": lambda: single_op("Abs", [(3,)]),
    "HardSigmoid": lambda: single_op("HardSigmoid", [(3,)]),
    "Clip": lambda: single_op(
        "Clip", [(3,)], constants={"lo": np.float32(-0.5), "hi": np.float32(0.5)}
    ),
    "Max": lambda: single_op("Max", [(3,), (3,)]),
    "Min": lambda: single_op("Min", [(3,), (3,)]),
}


@pytest.mark.parametrize("op", sorted(FLIPPABLE))
def test_piecewise_linear_ops_reject_a_flipped_comparison(op: str) -> None:
    """The top bit of every wide decomposition is a sign or a comparison; a prover that
    flips it (with every other bit kept) changes the output and must be caught."""
    model = FLIPPABLE[op]()
    feeds = {
        i.name: np.array([-1.5, -0.25, 0.75][:: 1 - 2 * k], np.float32)
        for k, i in enumerate(model.graph.input)
    }
    compiled, honest, _ = against_ort(model, feeds, 1.0)
    n = compiled.circuit.cs.n_public
    lied = 0
    for _, outs in hint_calls(compiled, "bits"):
        if len(outs) < 20:
            continue
        value = sum(honest[w] << i for i, w in enumerate(outs))
        forced = dict(zip(outs, bits_of(value ^ (1 << (len(outs) - 1)), len(outs)), strict=True))
        forged = replay(compiled.circuit, honest, forced)
        if forged[1 : n + 1] != honest[1 : n + 1]:
            assert compiled.circuit.cs.first_unsatisfied(forged) is not None
            lied += 1
    assert lied > 0
