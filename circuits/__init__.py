"""zkoracle, proving side: R1CS circuits over the BN254 scalar field and Groth16 proofs.

This module is the façade: the chain side (`oracle`) imports only what is listed here.

* writing circuits: `Builder`, `Circuit`, `Witness`, `ConstraintSystem`, `LinearCombination`;
* models: `compile_model`, `setup`, `prove`, `verify`, `info`, `load_model_dir` /
  `LoadedModel` (a compiled model with its keys kept in memory, for long-lived processes),
  `QuantConfig`, `BACKENDS` / `DEFAULT_BACKEND`, `stderr_progress`; the files of a proof:
  `read_inputs`, `read_samples`, `write_proof_files`, `read_proof_files`; `check_proof`
  (the key directory's own backend), `sample_errors` (circuit against onnxruntime);
* errors: `CircuitError` (the root of every error raised here), `FieldRangeError`;
* proofs and keys: `Proof`, `VerifyingKey`, `verify_proof` (the pure-Python verifier;
  like `verify`, it takes the key first, then the public inputs, then the proof, as
  ``snarkjs groth16 verify vk public proof`` does),
  `get_backend` (Groth16 backends: "native", the default, "snarkjs" and "groth16py"),
  `load_key_info`;
* the statement and the chain: `Manifest` / `manifest_sha256` (a model directory's
  description and its hash; `ManifestJson` / `ModelInfoJson` are the JSON shapes of the
  manifest and of `info`), `PublicLayout` / `Packing` (public-input encoding),
  `quantize`, `render_verifier` / `verifier_calldata` (the Solidity verifier);
* audit: `recompiled_hashes`, `opened_weights_commitment`;
* privacy: `Visibility` / `Claim` (what a statement hides), `commit` / `Segment` /
  `input_commitment` / `new_salt` (salted Poseidon commitments), `poseidon_hash`;
* example models: `save_mlp` (an MLP with given weights, written as ONNX).

Names are imported on first use (PEP 562), so ``import circuits.errors`` or a command that
only verifies does not pay for the compiler, numpy or onnx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from circuits.audit import Recompiled, opened_weights_commitment, recompiled_hashes
    from circuits.builder import Builder
    from circuits.commitment import Segment, commit, input_commitment, new_salt
    from circuits.constraint_system import ConstraintSystem
    from circuits.errors import CircuitError, FieldRangeError
    from circuits.field import R, from_field, to_field
    from circuits.groth16.backend import BACKENDS, DEFAULT_BACKEND, get_backend, stderr_progress
    from circuits.groth16.data import Proof, VerifyingKey
    from circuits.groth16.keydir import load_key_info
    from circuits.groth16.verifier import verify as verify_proof
    from circuits.lc import LinearCombination
    from circuits.model_compile import compile_model, sample_errors
    from circuits.model_store import LoadedModel, ProveResult, load_model_dir, verify
    from circuits.onnx.examples import save_mlp
    from circuits.onnx.manifest import Manifest, manifest_sha256
    from circuits.onnx.opening import load_salts
    from circuits.onnx.quant import QuantConfig, quantize
    from circuits.onnx.schema import ManifestJson, ModelInfoJson
    from circuits.onnx.statement import Packing, PublicLayout
    from circuits.onnx.visibility import Claim, Visibility
    from circuits.pipeline import check_proof, info, prove, setup
    from circuits.poseidon import poseidon as poseidon_hash
    from circuits.program import Circuit, Witness
    from circuits.proof_files import read_inputs, read_proof_files, read_samples, write_proof_files
    from circuits.provers.native import verify_proof_files
    from circuits.solidity import MAX_PUBLIC_INPUTS, render_verifier, verifier_calldata

#: Public name -> "module" (same name there) or "module:attribute".
_LAZY: dict[str, str] = {
    "BACKENDS": "circuits.groth16.backend",
    "DEFAULT_BACKEND": "circuits.groth16.backend",
    "Builder": "circuits.builder",
    "Circuit": "circuits.program",
    "CircuitError": "circuits.errors",
    "Claim": "circuits.onnx.visibility",
    "ConstraintSystem": "circuits.constraint_system",
    "FieldRangeError": "circuits.errors",
    "LinearCombination": "circuits.lc",
    "LoadedModel": "circuits.model_store",
    "MAX_PUBLIC_INPUTS": "circuits.solidity",
    "Manifest": "circuits.onnx.manifest",
    "ManifestJson": "circuits.onnx.schema",
    "ModelInfoJson": "circuits.onnx.schema",
    "Packing": "circuits.onnx.statement",
    "Proof": "circuits.groth16.data",
    "ProveResult": "circuits.model_store",
    "PublicLayout": "circuits.onnx.statement",
    "QuantConfig": "circuits.onnx.quant",
    "R": "circuits.field",
    "Recompiled": "circuits.audit",
    "Segment": "circuits.commitment",
    "VerifyingKey": "circuits.groth16.data",
    "Visibility": "circuits.onnx.visibility",
    "Witness": "circuits.program",
    "check_proof": "circuits.pipeline",
    "commit": "circuits.commitment",
    "compile_model": "circuits.model_compile",
    "from_field": "circuits.field",
    "get_backend": "circuits.groth16.backend",
    "info": "circuits.pipeline",
    "input_commitment": "circuits.commitment",
    "load_key_info": "circuits.groth16.keydir",
    "load_model_dir": "circuits.model_store",
    "load_salts": "circuits.onnx.opening",
    "manifest_sha256": "circuits.onnx.manifest",
    "new_salt": "circuits.commitment",
    "opened_weights_commitment": "circuits.audit",
    "poseidon_hash": "circuits.poseidon:poseidon",
    "prove": "circuits.pipeline",
    "quantize": "circuits.onnx.quant",
    "read_inputs": "circuits.proof_files",
    "read_proof_files": "circuits.proof_files",
    "read_samples": "circuits.proof_files",
    "recompiled_hashes": "circuits.audit",
    "render_verifier": "circuits.solidity",
    "sample_errors": "circuits.model_compile",
    "save_mlp": "circuits.onnx.examples",
    "setup": "circuits.pipeline",
    "stderr_progress": "circuits.groth16.backend",
    "to_field": "circuits.field",
    "verifier_calldata": "circuits.solidity",
    "verify": "circuits.model_store",
    "verify_proof": "circuits.groth16.verifier:verify",
    "verify_proof_files": "circuits.provers.native",
    "write_proof_files": "circuits.proof_files",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'circuits' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module), attr or name)
    globals()[name] = value
    return value


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "MAX_PUBLIC_INPUTS",
    "Builder",
    "Circuit",
    "CircuitError",
    "Claim",
    "ConstraintSystem",
    "FieldRangeError",
    "LinearCombination",
    "LoadedModel",
    "Manifest",
    "ManifestJson",
    "ModelInfoJson",
    "Packing",
    "Proof",
    "ProveResult",
    "PublicLayout",
    "QuantConfig",
    "R",
    "Recompiled",
    "Segment",
    "VerifyingKey",
    "Visibility",
    "Witness",
    "check_proof",
    "commit",
    "compile_model",
    "from_field",
    "get_backend",
    "info",
    "input_commitment",
    "load_key_info",
    "load_model_dir",
    "load_salts",
    "manifest_sha256",
    "new_salt",
    "opened_weights_commitment",
    "poseidon_hash",
    "prove",
    "quantize",
    "read_inputs",
    "read_proof_files",
    "read_samples",
    "recompiled_hashes",
    "render_verifier",
    "sample_errors",
    "save_mlp",
    "setup",
    "stderr_progress",
    "to_field",
    "verifier_calldata",
    "verify",
    "verify_proof",
    "verify_proof_files",
    "write_proof_files",
]
