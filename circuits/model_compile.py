"""Compiling an ONNX model into a model directory, and its error against onnxruntime."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from circuits.constraint_system import R1CS_FILE
from circuits.errors import QuantOverflowError
from circuits.formats import r1cs as r1cs_format
from circuits.groth16.backend import Progress
from circuits.model_store import CACHE, LoadedModel, load_model_dir, save_compiled
from circuits.onnx.inputs import Sample, load_samples
from circuits.onnx.manifest import MODEL_FILE, Manifest
from circuits.onnx.model import CompiledModel
from circuits.onnx.opening import OPENING_FILE, WeightsOpening
from circuits.onnx.quant import QuantConfig
from circuits.onnx.schema import ErrorReport
from circuits.onnx.visibility import Visibility

#: Samples the compile step runs through circuit and onnxruntime for the error report.
ERROR_SAMPLES = 16


def compile_model(
    onnx_path: str | Path,
    out_dir: str | Path,
    calibration: str | Path | Sequence[Sample] | None = None,
    config: QuantConfig | None = None,
    *,
    progress: Progress | None = None,
    visibility: Visibility | None = None,
) -> Manifest:
    """Compile the model into `out_dir` (circuit.r1cs, manifest.json, model.onnx; with
    private weights also weights-opening.json, the owner's secret opening)."""
    # onnx and onnxruntime are needed to compile, not to prove from a stored model
    from circuits.commitment import new_salt
    from circuits.onnx.calibrate import calibrate, random_samples
    from circuits.onnx.compiler import compile_graph
    from circuits.onnx.loader import load_model

    say = progress or (lambda _m: None)
    graph = load_model(onnx_path)
    names, shapes = [i.name for i in graph.inputs], [i.shape for i in graph.inputs]
    samples: Sequence[Sample] | None = None
    if calibration is not None:
        samples = (
            load_samples(calibration, names, shapes)
            if isinstance(calibration, str | Path)
            else calibration
        )
        say(f"calibrating on {len(samples)} sample(s)")
        config = calibrate(graph, samples, config)
    say(f"compiling {onnx_path}")
    compiled = compile_graph(graph, config, visibility)
    say(f"{compiled.circuit.cs.n_constraints} constraints; measuring the error against onnxruntime")
    check = list(samples[:ERROR_SAMPLES]) if samples else random_samples(graph, ERROR_SAMPLES)
    error = error_report(compiled, check, "calibration samples" if samples else "uniform [-1, 1]")
    # every check is done before the first file is written: a failure leaves nothing behind
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = r1cs_format.encode(compiled.circuit.cs)
    (out / R1CS_FILE).write_bytes(data)
    (out / MODEL_FILE).write_bytes(graph.data)
    commitment = None
    if compiled.private_weights:
        opening = WeightsOpening.of(compiled.private_weights, new_salt())
        opening.save(out / OPENING_FILE, compiled.private_weights)
        commitment = opening.commitment
    manifest = Manifest.of(
        compiled, Path(onnx_path).name, hashlib.sha256(data).hexdigest(), error, commitment
    )
    manifest.save(out)
    save_compiled(out, manifest, compiled)
    CACHE.put(out, LoadedModel(out, manifest, compiled))
    return manifest


def error_report(compiled: CompiledModel, samples: Sequence[Sample], kind: str) -> ErrorReport:
    """Largest and mean |circuit - onnxruntime| per output over the samples."""
    from circuits.commitment import new_salt
    from circuits.onnx.calibrate import run_reference

    refs = run_reference(compiled.graph, samples)
    worst: dict[str, float] = {}
    total, count, overflow = 0.0, 0, []
    salts = {k: new_salt() for k in compiled.salt_names}
    for s, ref in zip(samples, refs, strict=True):
        try:
            w = compiled.witness(s, salts=salts)
        except QuantOverflowError as e:
            overflow.append(str(e))
            continue
        for name, got in compiled.dequantize_outputs(compiled.output_values(w)).items():
            diff = np.abs(got.reshape(-1) - np.asarray(ref[name], dtype=np.float64).reshape(-1))
            worst[name] = max(worst.get(name, 0.0), float(diff.max(initial=0.0)))
            total += float(diff.sum())
            count += diff.size
    return {
        "samples": len(samples),
        "inputs": kind,
        "max_abs_err": max(worst.values(), default=0.0),
        "mean_abs_err": total / count if count else 0.0,
        "max_abs_err_per_output": worst,
        "overflows": len(overflow),
        "first_overflow": overflow[0] if overflow else None,
        "approximations": list(compiled.approximations),
    }


@dataclass(frozen=True)
class ErrorSamples:
    """The largest |circuit - onnxruntime| over the outputs of each sample, and what the
    samples were; samples that overflow the circuit's ranges are counted, not measured."""

    kind: str
    errors: list[float]
    overflows: int


def sample_errors(
    model_dir: str | Path, samples: str | Path | None = None, n: int = 64, seed: int = 0
) -> ErrorSamples:
    """Measure the compiled model against onnxruntime on the samples of a JSON file (ezkl
    ``input_data`` or ``{name: values}``), or on `n` samples uniform in [-1, 1]."""
    from circuits.commitment import new_salt
    from circuits.onnx.calibrate import random_samples, run_reference

    compiled = load_model_dir(model_dir).compiled
    graph = compiled.graph
    if samples is not None:
        names, shapes = [i.name for i in graph.inputs], [i.shape for i in graph.inputs]
        chosen, kind = load_samples(samples, names, shapes), f"samples of {Path(samples).name}"
    else:
        chosen, kind = random_samples(graph, n, seed), "uniform [-1, 1]"
    errors, overflows = [], 0
    salts = {k: new_salt() for k in compiled.salt_names}
    for s, ref in zip(chosen, run_reference(graph, chosen), strict=True):
        try:
            w = compiled.witness(s, salts=salts)
        except QuantOverflowError:
            overflows += 1
            continue
        worst = 0.0
        for name, got in compiled.dequantize_outputs(compiled.output_values(w)).items():
            want = np.asarray(ref[name], dtype=np.float64).reshape(-1)
            worst = max(worst, float(np.abs(got.reshape(-1) - want).max(initial=0.0)))
        errors.append(worst)
    return ErrorSamples(kind, errors, overflows)
