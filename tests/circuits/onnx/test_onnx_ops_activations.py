"""Erf, Gelu, Mish, Elu, Selu and HardSwish against onnxruntime, with certified errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest

from circuits.onnx.examples import single_op
from circuits.testing import hint_outputs, replay
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand

CASES: list[tuple[str, dict[str, Any], int]] = [
    ("Erf", {}, 13),
    ("Gelu", {}, 20),
    ("Gelu", {"approximate": "tanh"}, 20),
    ("Mish", {}, 18),
    ("Elu", {}, 13),
    ("Elu", {"alpha": 0.5}, 13),
    ("Selu", {}, 13),
    ("HardSwish", {}, 14),
]


@pytest.mark.parametrize("op,attrs,opset", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_activation_matches_onnxruntime(op: str, attrs: dict[str, Any], opset: int) -> None:
    model = single_op(op, [(3, 8)], opset=opset, **attrs)
    x = rand(7, 3, 8, scale=5.0)
    x.reshape(-1)[:3] = [0.0, -0.5, 0.5]
    compiled, _ = check_model(model, {"x0": x}, 1e-4)
    reports = [a for a in compiled.approximations if a.get("max_abs_error") is not None]
    assert reports and all(a["max_abs_error"] < 1e-4 for a in reports)


def test_gelu_plan_output_cannot_be_forged() -> None:
    compiled = compile_model(single_op("Gelu", [(1, 3)], opset=20))
    w = compiled.witness({"x0": np.array([[0.3, -1.2, 2.0]])}, check=True)
    bits = hint_outputs(compiled.circuit, "bits")
    # the decomposition of the first element: flip its lowest bit
    forged = replay(compiled.circuit, w.values, {bits[0][0]: 1 - w.values[bits[0][0]]})
    assert compiled.circuit.cs.first_unsatisfied(forged) is not None


def test_opset_ir_for_gelu() -> None:
    assert onnx.defs.get_schema("Gelu").since_version == 20
