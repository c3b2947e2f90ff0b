"""Run one ONNX model through the compiler and onnxruntime and compare the two.

`check_model` compiles the model, computes the witness with every constraint checked (so
the constraint system is satisfied by the honest witness), scans it for private wires that
could change alone (`assert_pinned`), dequantizes the public outputs and compares them
with onnxruntime's within a tolerance. `against_ort` does the same within the error bound
the compiler certified (the nonlinear ops' approximations).

The rest forges witnesses: `assert_lie_rejected` replays an honest witness with some hint
outputs forced (`hint_calls` finds them) and checks that the lie changes the outputs and
breaks a constraint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from circuits.approx import make_plan
from circuits.field import R, from_field
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.quant import QuantConfig
from circuits.program import HintOp
from circuits.testing import assert_pinned, replay

#: One rounding step at the default activation scale.
ULP = 2.0**-16
#: Half an input step at the default input scale (inputs are quantized by rounding).
HALF_STEP = 2.0**-17


def reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), sess_options=opts)
    names = [o.name for o in sess.get_outputs()]
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    typed = {
        k: np.asarray(v, dtype=onnx.helper.tensor_dtype_to_np_dtype(types.get(k, 1)))
        for k, v in feeds.items()
    }
    return dict(zip(names, sess.run(None, typed), strict=True))


def compile_model(model: onnx.ModelProto, config: QuantConfig | None = None) -> CompiledModel:
    return compile_graph(load_model_bytes(model.SerializeToString(), model.graph.name), config)


def check_model(
    model: onnx.ModelProto,
    feeds: dict[str, np.ndarray],
    tol: float,
    config: QuantConfig | None = None,
) -> tuple[CompiledModel, dict[str, np.ndarray]]:
    """Compile, solve (checking every constraint), compare with onnxruntime within tol."""
    compiled = compile_model(model, config)
    witness = compiled.witness(feeds, binding=7, check=True)
    assert compiled.circuit.cs.is_satisfied(witness.values)
    assert_pinned(compiled.circuit, witness.values)
    got = compiled.outputs_from_public(witness.public)
    ref = reference(model, feeds)
    for name, want in ref.items():
        have = got[name]
        want = np.asarray(want, dtype=np.float64)
        assert have.shape == want.shape, (name, have.shape, want.shape)
        err = float(np.max(np.abs(have - want), initial=0.0))
        assert err <= tol, (
            f"{name}: max error {err:.3g} > {tol:.3g}\ncircuit {have}\nonnxruntime {want}"
        )
    return compiled, got


def rand(seed: int, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-scale, scale, shape).astype(np.float32)


def f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


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


def rounding_width(func: str, s: int, bound: int) -> tuple[int, int]:
    """(K, K + q_bits): the bits the final rounding of a plan drops, and its decomposition."""
    plan = make_plan(func, s, s, -bound, bound)
    return plan.shift, plan.shift + max((-plan.y_min - 1).bit_length(), plan.y_max.bit_length()) + 1


def assert_max_lies_rejected(
    compiled: CompiledModel, honest: list[int], changes_output: bool = True
) -> None:
    """The hinted maximum of the first row replaced by the runner-up and by max + 1 (a
    softmax does not depend on the value it subtracts, only the constraints catch it)."""
    (ins, (m,)), *_ = hint_calls(compiled, "max_of")
    vals = sorted({from_field(honest[w]) for w in ins})
    for wrong in (vals[-2], vals[-1] + 1):
        assert_lie_rejected(compiled, honest, {m: wrong % R}, changes_output=changes_output)
