"""zkoracle, proving side: R1CS circuits over the BN254 scalar field and Groth16 proofs.

This module is the façade: the chain side (`oracle`) imports only what is listed here.

* writing circuits: `Builder`, `Circuit`, `Witness`, `ConstraintSystem`, `LC`;
* models: `compile_model`, `setup`, `prove`, `verify`, `info`, `load_model_dir` /
  `LoadedModel` (a compiled model with its keys kept in memory, for long-lived processes);
* proofs and keys: `Proof`, `VerifyingKey`, `verify_proof` (the pure-Python verifier),
  `get_backend` (Groth16 backends: "arkworks", the default, and "snarkjs"), `load_key_info`;
* the statement and the chain: `Manifest` / `manifest_sha256` (a model directory's
  description and its hash), `PublicLayout` / `Packing` (public-input encoding),
  `quantize`, `render_verifier` / `verifier_calldata` (the Solidity verifier);
* audit: `recompiled_hashes`, `opened_weights_commitment`;
* privacy: `Visibility` / `Claim` (what a statement hides), `commit` / `Segment` /
  `input_commitment` / `new_salt` (salted Poseidon commitments), `poseidon`;
* example models: `build_mlp_onnx` (an MLP with given weights, written as ONNX).
"""

from circuits import pipeline
from circuits.audit import Recompiled, opened_weights_commitment, recompiled_hashes
from circuits.builder import Builder
from circuits.commitment import Segment, commit, input_commitment, new_salt
from circuits.errors import CircuitError, FieldRangeError
from circuits.field import R, from_field, to_field
from circuits.groth16.backend import get_backend, load_key_info
from circuits.groth16.data import Proof, VerifyingKey
from circuits.groth16.verifier import verify as verify_proof
from circuits.lc import LC, LinearCombination
from circuits.onnx.examples import save_mlp as build_mlp_onnx
from circuits.onnx.manifest import Manifest, manifest_sha256
from circuits.onnx.quant import quantize
from circuits.onnx.statement import Packing, PublicLayout
from circuits.onnx.visibility import Claim, Visibility
from circuits.pipeline import (
    LoadedModel,
    ProveResult,
    compile_model,
    info,
    load_model_dir,
    prove,
    setup,
    verify,
)
from circuits.poseidon import poseidon
from circuits.program import Circuit, Witness
from circuits.r1cs import ConstraintSystem
from circuits.solidity import render_verifier, verifier_calldata

__all__ = [
    "LC",
    "Builder",
    "Circuit",
    "CircuitError",
    "Claim",
    "ConstraintSystem",
    "FieldRangeError",
    "LinearCombination",
    "LoadedModel",
    "Manifest",
    "Packing",
    "Proof",
    "ProveResult",
    "PublicLayout",
    "R",
    "Recompiled",
    "Segment",
    "VerifyingKey",
    "Visibility",
    "Witness",
    "build_mlp_onnx",
    "commit",
    "compile_model",
    "from_field",
    "get_backend",
    "info",
    "input_commitment",
    "load_key_info",
    "load_model_dir",
    "manifest_sha256",
    "new_salt",
    "opened_weights_commitment",
    "pipeline",
    "poseidon",
    "prove",
    "quantize",
    "recompiled_hashes",
    "render_verifier",
    "setup",
    "to_field",
    "verifier_calldata",
    "verify",
    "verify_proof",
]
