"""The model pipeline: compile an ONNX model, set up keys, prove inferences, verify proofs.

A model directory holds ``circuit.r1cs``, ``manifest.json`` (see `circuits.onnx.manifest`),
``model.onnx`` (a copy of the compiled model) and, after `setup`, the key files of the
Groth16 backend, and ``compiled.pickle`` / ``compiled.json``: the compiled model (circuit,
witness program, statement layout), so that proving does not recompile the ONNX model.
``compiled.json`` records the pickle's sha256, the manifest's ``onnx`` and ``r1cs`` digests
and a digest of the compiler's source; the pickle is used only when all of them match
(the hash catches corruption and stale files; the artifact directory is trusted input,
like its keys). Otherwise `LoadedModel.load` recompiles the copied model with the
manifest's QuantConfig, refuses to go on unless the rebuilt constraint system hashes to the
manifest's ``r1cs`` digest (the one the keys were made for), and rewrites the cache. A
long-lived process keeps `LoadedModel`s in memory (`load_model_dir` caches them).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from circuits.commitment import new_salt
from circuits.constraint_system import R1CS_FILE
from circuits.errors import (
    BackendError,
    FormatError,
    QuantOverflowError,
    UnsatisfiedConstraintError,
)
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.formats.snarkjs_json import (
    read_proof,
    read_public,
    read_vk,
    write_proof,
    write_public,
)
from circuits.groth16.backend import (
    BACKENDS,
    DEFAULT_BACKEND,
    KeyInfo,
    Progress,
    backend_for,
    get_backend,
    load_key_info,
    stderr_progress,
)
from circuits.groth16.data import Proof
from circuits.onnx.inputs import Sample, load_samples, single_sample
from circuits.onnx.manifest import MODEL_FILE, Manifest
from circuits.onnx.opening import OPENING_FILE, WeightsOpening, load_salts, save_salts
from circuits.onnx.quant import QuantConfig
from circuits.onnx.schema import ErrorReport, ModelInfoJson
from circuits.onnx.visibility import Claim, Visibility
from circuits.program import Witness

if TYPE_CHECKING:
    from circuits.onnx.compiler import CompiledModel

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Claim",
    "ErrorSamples",
    "LoadedModel",
    "Manifest",
    "ProveResult",
    "QuantConfig",
    "R",
    "Visibility",
    "compile_model",
    "info",
    "load_model_dir",
    "load_salts",
    "prove",
    "read_inputs",
    "read_proof_files",
    "read_samples",
    "sample_errors",
    "setup",
    "stderr_progress",
    "verify",
    "write_proof_files",
]

#: Samples the compile step runs through circuit and onnxruntime for the error report.
ERROR_SAMPLES = 16


@dataclass(frozen=True)
class ProveResult:
    """A proof, its public inputs (field elements, statement order) and the dequantized
    outputs; with the time spent computing the witness and proving."""

    proof: Proof
    public: list[int]
    outputs: dict[str, npt.NDArray[np.float64]]
    witness_s: float
    prove_s: float
    #: The salts of the input/output commitments (empty for a public statement).
    salts: dict[str, int] = field(default_factory=dict)
    #: The quantized outputs (statement order), also when the statement hides them.
    quantized: list[int] = field(default_factory=list)


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
    _CACHE.put(out, LoadedModel(out, manifest, compiled))
    return manifest


def error_report(compiled: CompiledModel, samples: Sequence[Sample], kind: str) -> ErrorReport:
    """Largest and mean |circuit - onnxruntime| per output over the samples."""
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


COMPILED_FILE = "compiled.pickle"
COMPILED_META = "compiled.json"


def _code_digest() -> str:
    """sha256 of the `circuits` package's Python source: a compiled model pickled by other
    code is not reused."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def save_compiled(model_dir: Path, manifest: Manifest, compiled: CompiledModel) -> None:
    """Store the compiled model beside the manifest (best effort: a read-only directory
    only costs a recompilation per process)."""
    data = pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "onnx_sha256": manifest.onnx_sha256,
        "r1cs_sha256": manifest.r1cs_sha256,
        "code_sha256": _code_digest(),
    }
    try:
        (model_dir / COMPILED_FILE).write_bytes(data)
        (model_dir / COMPILED_META).write_text(json.dumps(meta, indent=1) + "\n")
    except OSError:
        pass


def load_compiled(model_dir: Path, manifest: Manifest) -> CompiledModel | None:
    """The stored compiled model if it is the manifest's and this code's, else None."""
    try:
        meta = json.loads((model_dir / COMPILED_META).read_text())
        data = (model_dir / COMPILED_FILE).read_bytes()
    except (OSError, ValueError):
        return None
    want = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "onnx_sha256": manifest.onnx_sha256,
        "r1cs_sha256": manifest.r1cs_sha256,
        "code_sha256": _code_digest(),
    }
    if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in want.items()):
        return None
    from circuits.onnx.compiler import CompiledModel

    compiled = pickle.loads(data)
    return compiled if isinstance(compiled, CompiledModel) else None


class LoadedModel:
    """A model directory in memory: manifest, compiled circuit (with witness program)."""

    def __init__(self, model_dir: Path, manifest: Manifest, compiled: CompiledModel) -> None:
        self.dir = model_dir
        self.manifest = manifest
        self.compiled = compiled

    @staticmethod
    def load(model_dir: str | Path) -> LoadedModel:
        """The stored compiled model, or recompile the stored ONNX model and check it is
        the circuit the manifest describes."""
        d = Path(model_dir)
        manifest = Manifest.load(d)
        model_path = d / MODEL_FILE
        if not model_path.is_file():
            raise FormatError(str(model_path), "the model copy is missing; compile the model again")
        data = model_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != manifest.onnx_sha256:
            raise FormatError(
                str(model_path), "the model copy does not match the manifest's sha256"
            )
        stored = load_compiled(d, manifest)
        if stored is not None:
            return LoadedModel(d, manifest, stored)
        from circuits.onnx.compiler import compile_graph
        from circuits.onnx.loader import load_model_bytes

        graph = load_model_bytes(data, str(model_path))
        compiled = compile_graph(graph, manifest.config, manifest.visibility)
        digest = hashlib.sha256(r1cs_format.encode(compiled.circuit.cs)).hexdigest()
        if digest != manifest.r1cs_sha256:
            raise FormatError(
                str(d / R1CS_FILE),
                "recompiling the model gives a different constraint system than the manifest's; "
                "the artifact was made by another compiler version: compile and set up again",
            )
        save_compiled(d, manifest, compiled)
        return LoadedModel(d, manifest, compiled)

    def salts(self, salts: Mapping[str, int] | None = None) -> dict[str, int]:
        """The salts a proof needs: the weights salt from the owner's opening file, the
        others from `salts` (fresh ones when not given: a new commitment each time)."""
        out = {k: new_salt() for k in self.compiled.salt_names if k != "weights"}
        out.update({k: v for k, v in (salts or {}).items() if k != "weights"})
        if self.compiled.private_weights:
            out["weights"] = self.opening().salt
        return out

    def opening(self) -> WeightsOpening:
        """The owner's opening of the weights commitment (private weights only)."""
        path = self.dir / OPENING_FILE
        if not path.is_file():
            raise FormatError(
                str(path),
                "the model's weights are private and their opening (salt) is missing: "
                "proving needs the weights-opening.json written by zkoracle compile",
            )
        return WeightsOpening.load(path, self.compiled.private_weights)

    def witness(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        binding: int = 0,
        salts: Mapping[str, int] | None = None,
    ) -> Witness:
        return self.compiled.witness(inputs, binding, check=False, salts=self.salts(salts))

    def prove(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        binding: int = 0,
        salts: Mapping[str, int] | None = None,
    ) -> ProveResult:
        """Quantize, solve, prove (the backend checks every constraint before proving).
        `salts` opens the input/output commitments (fresh salts when not given)."""
        t0 = time.perf_counter()
        used = self.salts(salts)
        w = self.compiled.witness(inputs, binding, check=False, salts=used)
        t1 = time.perf_counter()
        try:
            proof = backend_for(self.dir).prove(self.dir, w, cs=self.compiled.circuit.cs)
        except UnsatisfiedConstraintError as e:
            raise self.compiled.overflow_error(e) from e
        t2 = time.perf_counter()
        values = self.compiled.output_values(w)
        return ProveResult(
            proof,
            w.public,
            self.compiled.dequantize_outputs(values),
            t1 - t0,
            t2 - t1,
            {k: v for k, v in used.items() if k != "weights"},
            values,
        )

    def verify(self, public: Sequence[int], proof: Proof) -> bool:
        return verify(self.dir, public, proof)


class _ModelCache:
    """LoadedModels by directory, reloaded when manifest.json changes."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, LoadedModel]] = {}
        self._lock = threading.Lock()

    def get(self, model_dir: str | Path) -> LoadedModel:
        key, stamp = self._key(model_dir)
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        model = LoadedModel.load(model_dir)
        self.put(Path(model_dir), model)
        return model

    def put(self, model_dir: Path, model: LoadedModel) -> None:
        key, stamp = self._key(model_dir)
        with self._lock:
            self._items[key] = (stamp, model)

    @staticmethod
    def _key(model_dir: str | Path) -> tuple[str, int]:
        p = Path(model_dir).resolve()
        m = p / "manifest.json"
        return str(p), m.stat().st_mtime_ns if m.exists() else 0


_CACHE = _ModelCache()


def load_model_dir(model_dir: str | Path) -> LoadedModel:
    """The model directory's `LoadedModel`, cached per process."""
    return _CACHE.get(model_dir)


def setup(
    model_dir: str | Path,
    backend: str = DEFAULT_BACKEND,
    zkey: str | Path | None = None,
    *,
    progress: Progress | None = None,
) -> KeyInfo:
    """Make the Groth16 keys of a compiled model (development setup, or import a ceremony
    .zkey made for this circuit.r1cs). The keys live in the model directory."""
    d = Path(model_dir)
    manifest = Manifest.load(d)
    r1cs_path = d / R1CS_FILE
    if not r1cs_path.is_file():
        raise FormatError(str(r1cs_path), "missing; compile the model again")
    if hashlib.sha256(r1cs_path.read_bytes()).hexdigest() != manifest.r1cs_sha256:
        raise FormatError(
            str(r1cs_path), "does not match the manifest's sha256; compile the model again"
        )
    b = get_backend(backend, progress=progress)
    if zkey is not None:
        return b.import_zkey(zkey, r1cs_path, d)
    return b.setup(r1cs_path, d)


def prove(
    model_dir: str | Path,
    inputs: Mapping[str, npt.ArrayLike],
    binding: int = 0,
    salts: Mapping[str, int] | None = None,
) -> ProveResult:
    """Prove one inference of the model in `model_dir` (keys from `setup`)."""
    load_key_info(model_dir)
    return load_model_dir(model_dir).prove(inputs, binding, salts)


def verify(model_dir: str | Path, public: Sequence[int], proof: Proof) -> bool:
    """Verify with the native verifier under the directory's verification key (every point
    checked). A wrong number of public inputs raises `VerificationInputError`; a wrong proof
    returns False. `circuits.groth16.verifier` is the independent pure-Python check."""
    from circuits.provers.native import verify_with_key

    info = load_key_info(model_dir)
    return verify_with_key(read_vk(info.verification_key), list(public), proof)


def check_proof(model_dir: str | Path, proof: Proof, public: Sequence[int]) -> bool:
    """Verify with the backend that made the directory's keys, e.g. right after proving
    (milliseconds with the native backend)."""
    return backend_for(model_dir).verify(model_dir, list(public), proof)


def info(model_dir: str | Path) -> ModelInfoJson:
    """The manifest (as JSON) plus the key directory's setup description, if any."""
    d = Path(model_dir)
    try:
        setup: dict[str, Any] | None = dict(load_key_info(d).to_json())
    except BackendError:
        setup = None
    return ModelInfoJson(**Manifest.load(d).to_json(), setup=setup)


def write_proof_files(
    out_dir: str | Path, result: ProveResult, manifest: Manifest
) -> dict[str, Path]:
    """proof.json and public.json (snarkjs layout) and output.json (dequantized outputs)."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = {"proof": d / "proof.json", "public": d / "public.json", "output": d / "output.json"}
    write_proof(paths["proof"], result.proof)
    write_public(paths["public"], result.public)
    doc: dict[str, Any] = {
        "outputs": {k: v.tolist() for k, v in result.outputs.items()},
        "quantized": result.quantized,
        "scales": {s.name: s.scale for s in manifest.outputs},
        "binding": str(result.public[0]),
    }
    parts = manifest.layout.parts(result.public)
    if parts.claim is not None:
        doc["claim"] = {"claim": str(manifest.visibility.claim), "holds": bool(parts.claim[1])}
    paths["output"].write_text(json.dumps(doc, indent=1) + "\n")
    if result.salts:  # the requester's to keep: they open the commitments
        paths["salts"] = save_salts(d / "salts.json", result.salts)
    return paths


def read_proof_files(proof_path: str | Path, public_path: str | Path) -> tuple[Proof, list[int]]:
    """A proof and its public inputs from snarkjs JSON files."""
    for p in (proof_path, public_path):
        if not Path(p).is_file():
            raise FormatError(str(p), "no such file (write it with `zkoracle prove`)")
    return read_proof(proof_path), read_public(public_path)


def read_samples(model_dir: str | Path, path: str | Path) -> list[Sample]:
    """Every input sample in a JSON file for the model in `model_dir` (the formats of
    `read_inputs`, with several samples: ``input_data`` rows or a list of objects)."""
    m = Manifest.load(model_dir)
    return load_samples(path, [s.name for s in m.inputs], [s.shape for s in m.inputs])


def read_inputs(model_dir: str | Path, path: str | Path) -> Sample:
    """One input sample for the model in `model_dir` from an INPUT.json file (ezkl's
    ``{"input_data": [[...]]}`` or ``{"<input name>": [...]}``)."""
    m = Manifest.load(model_dir)
    samples = load_samples(path, [s.name for s in m.inputs], [s.shape for s in m.inputs])
    return single_sample(samples, str(path))
