"""The model pipeline: compile an ONNX model, set up keys, prove inferences, verify proofs.

A model directory holds ``circuit.r1cs``, ``manifest.json`` (see `circuits.onnx.manifest`),
``model.onnx`` (a copy of the compiled model), ``compiled.pickle`` / ``compiled.json`` (the
stored compiled model, `circuits.model_store`) and, after `setup`, the key files of the
Groth16 backend. This module holds the steps over a model directory (setup, prove, check,
info); the rest is split by concern: `circuits.model_compile` (compile, error against
onnxruntime), `circuits.model_store` (loading a model directory, the stored compiled
model, proving, verifying) and `circuits.proof_files` (proof, public and output files;
input files). Proving imports neither the compiler nor onnx. Callers outside `circuits`
use the package's façade.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt

from circuits.constraint_system import R1CS_FILE
from circuits.errors import BackendError, FormatError
from circuits.groth16.backend import (
    DEFAULT_BACKEND,
    KeyInfo,
    Progress,
    backend_for,
    get_backend,
    load_key_info,
)
from circuits.groth16.data import Proof
from circuits.model_store import (
    ProveResult,
    load_model_dir,
)
from circuits.onnx.manifest import Manifest
from circuits.onnx.schema import ModelInfoJson

__all__ = ["check_proof", "info", "prove", "setup"]


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


def check_proof(model_dir: str | Path, public: Sequence[int], proof: Proof) -> bool:
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
