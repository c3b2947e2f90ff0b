"""Hand-built tree ensembles in every ONNX-ML encoding: all node modes, aggregates, base
values, post transforms and the binary layouts, against onnxruntime; and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

import circuits
from circuits.errors import CircuitError, InputRangeError, UnsupportedOpError
from tests.circuits.onnx.ml_harness import certified, compare, compile_onnx
from tests.circuits.onnx.tree_builders import (
    MODES,
    classifier_v3,
    ensemble_v5,
    grid_rows,
    random_flat,
    regressor_v3,
)

SLACK = 2.0**-16  # the output's own rounding to the activation scale


@pytest.mark.parametrize("aggregate", ["SUM", "AVERAGE", "MIN", "MAX"])
def test_every_mode_and_aggregate_opset3(aggregate: str) -> None:
    flat = random_flat(1, trees=4, depth=3, features=3, targets=2, modes=MODES)
    compiled = compile_onnx(regressor_v3(flat, 3, 2, aggregate, [0.5, -0.25]))
    res = compare(compiled, grid_rows(2, 48, 3))
    assert res.max_err["Y"] <= certified(compiled) + SLACK


@pytest.mark.parametrize("aggregate", [0, 1, 2, 3])
def test_tree_ensemble_opset5_with_membership(aggregate: int) -> None:
    compiled = compile_onnx(ensemble_v5(3 + aggregate, 4, 3, 3, 2, aggregate))
    res = compare(compiled, grid_rows(2, 48, 3, integers=True).astype(np.float64))
    assert res.max_err["Y"] <= certified(compiled) + SLACK


@pytest.mark.parametrize("positive", [True, False])
@pytest.mark.parametrize("post", ["NONE", "LOGISTIC"])
def test_binary_layouts(positive: bool, post: str) -> None:
    flat = random_flat(5, trees=3, depth=2, features=3, targets=1, modes=MODES)
    if positive:
        flat.votes = [(t, n, k, abs(w) / 4) for t, n, k, w in flat.votes]
    compiled = compile_onnx(classifier_v3(flat, 3, [3, 7], post, [0.1]))
    res = compare(compiled, grid_rows(7, 48, 3), label="label")
    assert res.label_mismatch == []
    assert res.max_err["Y"] <= certified(compiled) + SLACK


def test_multiclass_softmax_and_labels() -> None:
    flat = random_flat(8, trees=6, depth=2, features=3, targets=3, modes=MODES[:4])
    compiled = compile_onnx(classifier_v3(flat, 3, [10, 20, 30], "SOFTMAX", [0.0, 0.1, -0.1]))
    res = compare(compiled, grid_rows(9, 48, 3), label="label")
    assert res.label_mismatch == []
    assert res.max_err["Y"] <= certified(compiled) + 1e-4


def test_categorical_split_off_the_grid_is_refused() -> None:
    flat = random_flat(1, trees=1, depth=1, features=2, targets=1, modes=["BRANCH_EQ"])
    flat.value[0] = 0.1
    with pytest.raises(
        UnsupportedOpError, match=r"TreeEnsembleRegressor.*'trees'.*BRANCH_EQ.*0\.1"
    ):
        compile_onnx(regressor_v3(flat, 2, 1, "SUM", [0.0]))


def test_unknown_post_transform_names_the_attribute() -> None:
    flat = random_flat(1, trees=1, depth=1, features=2, targets=1, modes=MODES)
    with pytest.raises(CircuitError, match=r"'trees'.*post_transform = 'CUBIC'"):
        compile_onnx(regressor_v3(flat, 2, 1, "SUM", [0.0], post="CUBIC"))


def test_input_outside_the_compiled_range_is_refused() -> None:
    flat = random_flat(1, trees=1, depth=2, features=2, targets=1, modes=MODES)
    compiled = compile_onnx(regressor_v3(flat, 2, 1, "SUM", [0.0]))
    with pytest.raises(InputRangeError, match=r"input 'X'\[1\] = 1000\.0 is outside"):
        compiled.witness({"X": np.array([[0.0, 1000.0]])})


def test_a_failed_compile_leaves_nothing_behind(tmp_path: Path) -> None:
    # The calibration samples hold a value no circuit can carry: the compile fails after
    # loading the model, and the output directory stays as it was (absent).
    model = ensemble_v5(4, 2, 2, 2, 1, 1)
    src = tmp_path / "m.onnx"
    src.write_bytes(model.SerializeToString())
    name = model.graph.input[0].name
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps({name: [[1e300] * _width(model)]}))
    out = tmp_path / "out"
    with pytest.raises(CircuitError):
        circuits.compile_model(src, out, calibration=samples)
    assert not out.exists() or not any(out.iterdir())


def _width(model: onnx.ModelProto) -> int:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return int(dims[-1].dim_value)
