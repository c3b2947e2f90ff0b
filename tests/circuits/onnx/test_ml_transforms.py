"""post_transform SOFTMAX_ZERO and PROBIT on linear classifiers and tree ensembles, against
onnxruntime and the exact functions, and the probit gadget against a malicious prover."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from circuits.builder import Builder
from circuits.field import R, from_field
from circuits.gadgets.probit import probit, probit_plan
from circuits.lc import LinearCombination
from circuits.onnx.calibrate import run_reference
from circuits.onnx.compiler import CompiledModel
from circuits.onnx.ops.ml_transforms import ORT_PROBIT_DEVIATION
from circuits.program import Circuit
from circuits.testing import Tamper, check_circuit, hint_outputs, replay
from tests.circuits.onnx.ml_harness import compare, compile_onnx
from tests.circuits.onnx.tree_builders import grid_rows, random_flat, regressor_v3

_STD = NormalDist()


def _linear(
    post: str, coef: list[float], icpt: list[float], classes: int, rows: int = 0
) -> onnx.ModelProto:
    width = len(coef) // (rows or classes)
    node = helper.make_node(
        "LinearClassifier", ["X"], ["label", "Y"], domain="ai.onnx.ml", name="clf",
        coefficients=coef, intercepts=icpt, classlabels_ints=list(range(classes)),
        post_transform=post,
    )  # fmt: skip
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, width])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, classes]),
        ],
    )
    return helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    )


def _outputs(compiled: CompiledModel, x: np.ndarray) -> list[dict[str, Any]]:
    name = compiled.inputs[0].name
    out = []
    for i in range(len(x)):
        w = compiled.witness({name: x[i : i + 1]}, check=True)
        out.append(compiled.outputs_from_public(w.public))
    return out


def _record(compiled: CompiledModel, function: str) -> dict[str, Any]:
    return next(a for a in compiled.approximations if a["function"] == function)


def test_softmax_zero_matches_onnxruntime_and_zero_rows_give_zeros() -> None:
    # class 2 always scores exactly 0; rows 0 and 1 zero one or all scores
    compiled = compile_onnx(_linear("SOFTMAX_ZERO", [1.0, 0, 0, 1, 0, 0], [0.0, 0, 0], 3))
    x = np.random.default_rng(1).uniform(-3, 3, (40, 2)).astype(np.float32)
    x[0] = 0.0
    x[1, 1] = 0.0
    bound = float(_record(compiled, "softmax_zero")["max_abs_error"])
    res = compare(compiled, x[1:], "label")
    assert res.label_mismatch == [] and res.max_err["Y"] <= bound
    got = _outputs(compiled, x[:2])
    assert np.all(got[0]["Y"] == 0.0)  # onnxruntime: NaN (0 / 0)
    assert got[1]["Y"].reshape(-1)[1:].tolist() == [0.0, 0.0]
    assert got[1]["Y"].reshape(-1)[0] == 1.0


def test_probit_matches_the_exact_function_within_its_certified_bound() -> None:
    # dyadic weights and inputs: the scores are exact, so only the probit errs
    compiled = compile_onnx(_linear("PROBIT", [0.25, 0.125, -0.25, 0.125], [0.5, 0.5], 2))
    rec = _record(compiled, "probit")
    x = np.random.default_rng(2).integers(-320, 321, (60, 2)).astype(np.float32) / 256
    x[0] = [-1.25, -1.25]  # p = 0.03125 and 0.65625
    refs = run_reference(compiled.graph, [{"X": x[i : i + 1]} for i in range(len(x))])
    within = rec["max_abs_error_for_p_in"]["[0.01, 1 - 0.01]"]
    assert within < 1e-4 <= rec["max_abs_error"]
    for row, got, ref in zip(x, _outputs(compiled, x), refs, strict=True):
        p = np.array([0.25 * row[0] + 0.125 * row[1] + 0.5, -0.25 * row[0] + 0.125 * row[1] + 0.5])
        exact = np.array([_STD.inv_cdf(float(v)) for v in p])
        assert np.abs(got["Y"].reshape(-1) - exact).max() <= within
        ort = np.asarray(ref["Y"], dtype=np.float64).reshape(-1)
        assert np.abs(got["Y"].reshape(-1) - ort).max() <= within + ORT_PROBIT_DEVIATION
        assert int(got["label"].reshape(-1)[0]) == int(np.asarray(ref["label"]).reshape(-1)[0])


def test_probit_input_outside_the_unit_interval_has_no_proof() -> None:
    compiled = compile_onnx(_linear("PROBIT", [1.0, 0, 0, 1.0], [0.0, 0.0], 2))
    compiled.witness({"X": np.array([[0.5, 0.25]], np.float32)}, check=True)
    for bad in ([[0.0, 0.5]], [[0.5, 1.0]], [[-0.5, 0.5]]):
        with pytest.raises(Exception, match="outside"):
            compiled.witness({"X": np.array(bad, np.float32)}, check=True)


@pytest.mark.parametrize("post", ["PROBIT", "SOFTMAX_ZERO"])
def test_tree_ensembles_take_the_new_transforms(post: str) -> None:
    flat = random_flat(7, trees=4, depth=2, features=3, targets=2, modes=["BRANCH_LEQ"])
    # leaf values in (0.02, 0.23) so that the summed scores stay inside (0, 1) for PROBIT
    votes = [(t, n, k, 0.02 + abs(v) % 0.2) for t, n, k, v in flat.votes]
    if post == "SOFTMAX_ZERO":  # target 1 never gets a vote: its score is exactly 0
        votes = [(t, n, 0, w) for t, n, k, w in votes if k == 0]
    flat.votes = votes
    compiled = compile_onnx(regressor_v3(flat, 3, 2, "SUM", [0.0, 0.0], post))
    x = grid_rows(3, 40, 3)
    res = compare(compiled, x)
    bound = _record(compiled, post.lower())
    limit = bound.get("max_abs_error_for_p_in", {}).get("[0.01, 1 - 0.01]", bound["max_abs_error"])
    slack = ORT_PROBIT_DEVIATION if post == "PROBIT" else 0.0
    assert res.max_err["Y"] <= limit + slack


def test_single_score_binary_layout_refuses_probit() -> None:
    with pytest.raises(Exception, match="single score column"):
        compile_onnx(_linear("PROBIT", [1.0, 0.5], [0.0], 2, rows=1))


# the gadget ---------------------------------------------------------------------------
P_SCALE, OUT_SCALE = 12, 10


def _define(api: Builder) -> LinearCombination:
    return probit(api, probit_plan(P_SCALE, OUT_SCALE), api.private_input("p"))


def _shift_y(delta: int) -> Tamper:
    """Replace the hinted y by y + delta and recompute everything after it honestly."""

    def tamper(w: list[int], c: Circuit) -> list[int]:
        (ys,) = hint_outputs(c, "probit_search")
        return replay(c, w, {ys[0]: (from_field(w[ys[0]]) + delta) % R})

    return tamper


def test_probit_gadget_is_exact_within_its_bound_and_pins_y() -> None:
    pp = probit_plan(P_SCALE, OUT_SCALE)
    ps = [1, 7, 300, 2048, 3000, 4095]
    res = check_circuit(_define, [{"p": p} for p in ps], [{"p": 0}, {"p": 4096}, {"p": R - 3}])
    for p, (y,) in zip(ps, res.outputs, strict=True):
        exact = _STD.inv_cdf(p / 2**P_SCALE)
        assert abs(from_field(y) / 2**OUT_SCALE - exact) <= pp.error
    shifts = (1, -1, 5, -40, 3 * pp.limit, -3 * pp.limit)  # the last two leave [-limit, limit]
    for p in (300, 2048, 1):
        check_circuit(_define, [{"p": p}], malicious=[_shift_y(d) for d in shifts])
    res = check_circuit(_define, [{"p": 1}])
    assert res.n_constraints == pp.cost()
