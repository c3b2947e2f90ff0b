"""Shared helpers of the ONNX-ML tests: generated data, export with skl2onnx, and a
row-by-row comparison of the circuit's witness with onnxruntime."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from circuits.onnx.calibrate import run_reference
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.quant import QuantConfig


def data(seed: int, rows: int, features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features in [-2, 2], a binary and a three-class target that depend on them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (rows, features)).astype(np.float32)
    z = x @ rng.normal(size=features) + 0.3 * rng.normal(size=rows)
    y2 = (z > 0).astype(np.int64)
    y3 = np.digitize(z, np.quantile(z, [1 / 3, 2 / 3])).astype(np.int64)
    return x, y2, y3


def export(est: Any, x: np.ndarray, **kw: Any) -> onnx.ModelProto:
    """`est` exported by skl2onnx for float inputs of x's width (batch of one)."""
    from skl2onnx import to_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model: onnx.ModelProto = to_onnx(est, x[:1], **kw)
    return model


def compile_onnx(model: onnx.ModelProto, config: QuantConfig | None = None) -> CompiledModel:
    return compile_graph(load_model_bytes(model.SerializeToString(), "model.onnx"), config)


@dataclass
class Comparison:
    """Per output, the largest |circuit - onnxruntime| and the rows whose labels differ."""

    max_err: dict[str, float] = field(default_factory=dict)
    label_mismatch: list[int] = field(default_factory=list)
    rows: int = 0


def compare(compiled: CompiledModel, x: np.ndarray, label: str | None = None) -> Comparison:
    """Run every row of x through the circuit (all constraints checked) and onnxruntime."""
    name = compiled.inputs[0].name
    samples = [{name: x[i : i + 1]} for i in range(len(x))]
    refs = run_reference(compiled.graph, samples)
    out = Comparison(rows=len(x))
    for i, (s, ref) in enumerate(zip(samples, refs, strict=True)):
        w = compiled.witness(s, check=True)
        got = compiled.outputs_from_public(w.public)
        for k, want in ref.items():
            diff = np.abs(got[k].reshape(-1) - np.asarray(want, dtype=np.float64).reshape(-1))
            if k == label:
                if diff.max() > 0:
                    out.label_mismatch.append(i)
                continue
            out.max_err[k] = max(out.max_err.get(k, 0.0), float(diff.max()))
    return out


def certified(compiled: CompiledModel) -> float:
    """The sum of the certified errors of the approximations the circuit makes."""
    return sum(float(a["max_abs_error"]) for a in compiled.approximations)
