"""Nonlinear and comparison ops: certified approximations, one-node ONNX models against
onnxruntime within the stored error bound, exact constraint counts, and malicious
witnesses that lie about an output and must leave the constraint system unsatisfied."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.approx import make_plan
from circuits.errors import LoweringError
from circuits.field import R, from_field
from circuits.onnx.compiler import CompiledModel
from circuits.onnx.examples import mlp, single_op
from circuits.onnx.quant import QuantConfig, dequantize, quantize
from circuits.program import HintOp
from circuits.testing import assert_pinned, replay
from tests.circuits.onnx.onnx_harness import compile_model, rand, reference

FEW = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
#: Half an input step at the default input scale (inputs are quantized by rounding).
HALF_STEP = 2.0**-17


# helpers --------------------------------------------------------------------------------
def against_ort(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    lip: float = 0.0,
    config: QuantConfig | None = None,
) -> tuple[CompiledModel, list[int], float]:
    """Compile, solve with every constraint checked, and compare with onnxruntime within
    the certified bound the compiler stored plus lip * half an input step (the rounding of
    the float inputs) plus float32 slack. Returns the model, the witness and the bound."""
    compiled = compile_model(model, config)
    witness = compiled.witness(feeds, binding=5, check=True)
    assert_pinned(compiled.circuit, witness.values)
    got = compiled.outputs_from_public(witness.public)
    stored = sum(a["max_abs_error"] for a in compiled.approximations)
    for name, want in reference(model, feeds).items():
        want = np.asarray(want, dtype=np.float64)
        assert got[name].shape == want.shape
        tol = stored + lip * HALF_STEP + 2.0**-22 * np.maximum(1.0, np.abs(want))
        err = np.abs(got[name] - want)
        assert np.all(err <= tol), f"{name}: error {err.max():.3g} > bound {float(np.max(tol)):.3g}"
    return compiled, witness.values, stored


def node_cost(compiled: CompiledModel, op: str) -> int:
    return next(n.constraints for n in compiled.nodes if n.op_type == op)


def hint_calls(
    compiled: CompiledModel, name: str, **params: int
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(input term wires, output wires) of each call of hint `name` with these params."""
    want = tuple(sorted(params.items()))
    return [
        (tuple(next(iter(t)) for t in op.ins), op.outs)
        for op in compiled.circuit.program
        if isinstance(op, HintOp) and op.name == name and (not want or op.params == want)
    ]


def assert_lie_rejected(
    compiled: CompiledModel,
    honest: list[int],
    forced: dict[int, int],
    *,
    changes_output: bool = True,
) -> None:
    """Replay the witness with `forced` hint outputs (honest downstream): the public
    outputs must change (it is a lie about the result; `changes_output=False` for a lie
    about an intermediate the result does not depend on, like the max a softmax subtracts)
    and some constraint must fail."""
    forged = replay(compiled.circuit, honest, forced)
    n = compiled.circuit.cs.n_public
    assert forged != honest
    if changes_output:
        assert forged[1 : n + 1] != honest[1 : n + 1], "the forged witness tells no lie"
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


def bits_of(v: int, n: int) -> list[int]:
    return [(v >> i) & 1 for i in range(n)]


def shift_rounding(
    compiled: CompiledModel, honest: list[int], width: int, by: int
) -> dict[int, int]:
    """Forge the first decomposition of `width` bits to encode its value + by: valid bits
    that claim a quotient `by` higher (same remainder)."""
    (_, outs), *_ = hint_calls(compiled, "bits", n=width)
    value = sum(honest[w] << i for i, w in enumerate(outs))
    return dict(zip(outs, bits_of(value + by, width), strict=True))


# ONNX ops against onnxruntime -------------------------------------------------------------
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
    from circuits.pipeline import compile_model as compile_dir

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


# malicious witnesses ------------------------------------------------------------------------
def rounding_width(func: str, s: int, bound: int) -> tuple[int, int]:
    """(K, K + q_bits): the bits the final rounding of a plan drops, and its decomposition."""
    plan = make_plan(func, s, s, -bound, bound)
    return plan.shift, plan.shift + max((-plan.y_min - 1).bit_length(), plan.y_max.bit_length()) + 1


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


def _max_lies(compiled: CompiledModel, honest: list[int], changes_output: bool = True) -> None:
    """The hinted maximum of the first row replaced by the runner-up and by max + 1 (a
    softmax does not depend on the value it subtracts, only the constraints catch it)."""
    (ins, (m,)), *_ = hint_calls(compiled, "max_of")
    vals = sorted({from_field(honest[w]) for w in ins})
    for wrong in (vals[-2], vals[-1] + 1):
        assert_lie_rejected(compiled, honest, {m: wrong % R}, changes_output=changes_output)


def test_reduce_max_rejects_a_max_that_is_not_the_max() -> None:
    x = rand(9, 2, 40, scale=2.0)  # 40 values per row: the hint route beats a tournament
    compiled, honest, _ = against_ort(single_op("ReduceMax", [x.shape], axes=[1]), {"x0": x}, 1.0)
    _max_lies(compiled, honest)


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
    _max_lies(compiled, honest, changes_output=False)
    (_, (q,)), *_ = hint_calls(compiled, "div_round_var")
    for by in (1, -1):
        assert_lie_rejected(compiled, honest, {q: (honest[q] + by) % R})


def test_log_softmax_rejects_a_wrong_exponent_and_a_wrong_max() -> None:
    x = rand(6, 2, 7, scale=3.0)
    compiled, honest, _ = against_ort(single_op("LogSoftmax", [x.shape]), {"x0": x}, 2.0)
    _max_lies(compiled, honest, changes_output=False)
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
