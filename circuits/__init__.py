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
  `get_backend` (Groth16 backends: "arkworks", the default, and "snarkjs"), `load_key_info`;
* the statement and the chain: `Manifest` / `manifest_sha256` (a model directory's
  description and its hash; `ManifestJson` / `ModelInfoJson` are the JSON shapes of the
  manifest and of `info`), `PublicLayout` / `Packing` (public-input encoding),
  `quantize`, `render_verifier` / `verifier_calldata` (the Solidity verifier);
* audit: `recompiled_hashes`, `opened_weights_commitment`;
* privacy: `Visibility` / `Claim` (what a statement hides), `commit` / `Segment` /
  `input_commitment` / `new_salt` (salted Poseidon commitments), `poseidon_hash`;
* example models: `save_mlp` (an MLP with given weights, written as ONNX).
"""

from circuits.audit import Recompiled, opened_weights_commitment, recompiled_hashes
from circuits.builder import Builder
from circuits.commitment import Segment, commit, input_commitment, new_salt
from circuits.constraint_system import ConstraintSystem
from circuits.errors import CircuitError, FieldRangeError
from circuits.field import R, from_field, to_field
from circuits.groth16.backend import get_backend, load_key_info
from circuits.groth16.data import Proof, VerifyingKey
from circuits.groth16.verifier import verify as verify_proof
from circuits.lc import LinearCombination
from circuits.onnx.examples import save_mlp
from circuits.onnx.manifest import Manifest, manifest_sha256
from circuits.onnx.quant import QuantConfig, quantize
from circuits.onnx.schema import ManifestJson, ModelInfoJson
from circuits.onnx.statement import Packing, PublicLayout
from circuits.onnx.visibility import Claim, Visibility
from circuits.pipeline import (
    BACKENDS,
    DEFAULT_BACKEND,
    LoadedModel,
    ProveResult,
    check_proof,
    compile_model,
    info,
    load_model_dir,
    load_salts,
    prove,
    read_inputs,
    read_proof_files,
    read_samples,
    sample_errors,
    setup,
    stderr_progress,
    verify,
    write_proof_files,
)
from circuits.poseidon import poseidon as poseidon_hash
from circuits.program import Circuit, Witness
from circuits.solidity import render_verifier, verifier_calldata

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
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
    "write_proof_files",
]
