"""A compiled model directory in memory, and the compiled model stored in it.

``compiled.pickle`` / ``compiled.json`` hold the compiled model (circuit, witness program,
statement layout), so that proving does not recompile the ONNX model (nor import onnx:
see `circuits.onnx.model`). ``compiled.json`` records the pickle's sha256, the manifest's
``onnx`` and ``r1cs`` digests and a digest of the compiler's source; the pickle is used
only when all of them match (the hash catches corruption and stale files; the artifact
directory is trusted input, like its keys). Otherwise `LoadedModel.load` recompiles the
copied model with the manifest's QuantConfig, refuses to go on unless the rebuilt
constraint system hashes to the manifest's ``r1cs`` digest (the one the keys were made
for), and rewrites the store. A long-lived process keeps `LoadedModel`s in memory
(`load_model_dir` caches them).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from circuits.constraint_system import R1CS_FILE
from circuits.errors import FormatError, UnsatisfiedConstraintError
from circuits.formats import r1cs as r1cs_format
from circuits.formats.snarkjs_json import read_vk
from circuits.groth16.backend import backend_for, load_key_info
from circuits.groth16.data import Proof
from circuits.onnx.manifest import MODEL_FILE, Manifest
from circuits.onnx.model import CompiledModel
from circuits.program import Witness

if TYPE_CHECKING:
    from circuits.onnx.opening import WeightsOpening


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


COMPILED_FILE = "compiled.pickle"
COMPILED_META = "compiled.json"


def _python_sources(root: Path) -> list[Path]:
    """The .py files under `root`, skipping the Rust crate (`native/`, whose build directory
    alone holds thousands of files: walking it cost a cold `prove` ~0.03 s)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("native", "__pycache__")]
        out += [Path(dirpath) / f for f in filenames if f.endswith(".py")]
    return sorted(out)


def _code_digest() -> str:
    """sha256 of the `circuits` package's Python source: a compiled model pickled by other
    code is not reused."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for f in _python_sources(root):
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
        from circuits.commitment import new_salt

        out = {k: new_salt() for k in self.compiled.salt_names if k != "weights"}
        out.update({k: v for k, v in (salts or {}).items() if k != "weights"})
        if self.compiled.private_weights:
            out["weights"] = self.opening().salt
        return out

    def opening(self) -> WeightsOpening:
        """The owner's opening of the weights commitment (private weights only)."""
        from circuits.onnx.opening import OPENING_FILE, WeightsOpening

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


def verify(model_dir: str | Path, public: Sequence[int], proof: Proof) -> bool:
    """Verify with the native verifier under the directory's verification key (every point
    checked). A wrong number of public inputs raises `VerificationInputError`; a wrong proof
    returns False. `circuits.groth16.verifier` is the independent pure-Python check."""
    from circuits.provers.native import verify_with_key

    info = load_key_info(model_dir)
    return verify_with_key(read_vk(info.verification_key), list(public), proof)


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


CACHE = _ModelCache()


def load_model_dir(model_dir: str | Path) -> LoadedModel:
    """The model directory's `LoadedModel`, cached per process."""
    return CACHE.get(model_dir)
