"""zkoracle, proving side: R1CS circuits over the BN254 scalar field and Groth16 proofs.

This module is the façade: the chain side (`oracle`) imports only what is listed here.

* writing circuits: `Builder`, `Circuit`, `Witness`, `ConstraintSystem`, `LC`;
* models: `compile_model`, `setup`, `prove`, `verify`, `info`, `load_model_dir` /
  `LoadedModel` (a compiled model with its keys kept in memory, for long-lived processes);
* proofs and keys: `Proof`, `VerifyingKey`, `verify_proof` (the pure-Python verifier),
  `get_backend` (Groth16 backends: "native", the default, "snarkjs" and "groth16py"),
  `load_key_info`;
* the statement and the chain: `Manifest` / `manifest_sha256` (a model directory's
  description and its hash), `PublicLayout` / `Packing` (public-input encoding),
  `quantize`, `render_verifier` / `verifier_calldata` (the Solidity verifier);
* example models: `build_mlp_onnx` (an MLP with given weights, written as ONNX).

Names are imported on first use (PEP 562), so ``import circuits.errors`` or a command that
only verifies does not pay for the compiler, numpy or onnx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from circuits import pipeline
    from circuits.builder import Builder
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
    from circuits.program import Circuit, Witness
    from circuits.r1cs import ConstraintSystem
    from circuits.solidity import render_verifier, verifier_calldata

#: Public name -> "module" (same name there) or "module:attribute".
_LAZY: dict[str, str] = {
    "pipeline": "circuits.pipeline",
    "Builder": "circuits.builder",
    "CircuitError": "circuits.errors",
    "FieldRangeError": "circuits.errors",
    "R": "circuits.field",
    "from_field": "circuits.field",
    "to_field": "circuits.field",
    "get_backend": "circuits.groth16.backend",
    "load_key_info": "circuits.groth16.keydir",
    "Proof": "circuits.groth16.data",
    "VerifyingKey": "circuits.groth16.data",
    "verify_proof": "circuits.groth16.verifier:verify",
    "LC": "circuits.lc",
    "LinearCombination": "circuits.lc",
    "build_mlp_onnx": "circuits.onnx.examples:save_mlp",
    "Manifest": "circuits.onnx.manifest",
    "manifest_sha256": "circuits.onnx.manifest",
    "quantize": "circuits.onnx.quant",
    "Packing": "circuits.onnx.statement",
    "PublicLayout": "circuits.onnx.statement",
    "LoadedModel": "circuits.pipeline",
    "ProveResult": "circuits.pipeline",
    "compile_model": "circuits.pipeline",
    "info": "circuits.pipeline",
    "load_model_dir": "circuits.pipeline",
    "prove": "circuits.pipeline",
    "setup": "circuits.pipeline",
    "verify": "circuits.pipeline",
    "Circuit": "circuits.program",
    "Witness": "circuits.program",
    "ConstraintSystem": "circuits.r1cs",
    "render_verifier": "circuits.solidity",
    "verifier_calldata": "circuits.solidity",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'circuits' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    value = mod if name == "pipeline" else getattr(mod, attr or name)
    globals()[name] = value
    return value


__all__ = [
    "LC",
    "Builder",
    "Circuit",
    "CircuitError",
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
    "VerifyingKey",
    "Witness",
    "build_mlp_onnx",
    "compile_model",
    "from_field",
    "get_backend",
    "info",
    "load_key_info",
    "load_model_dir",
    "manifest_sha256",
    "pipeline",
    "prove",
    "quantize",
    "render_verifier",
    "setup",
    "to_field",
    "verifier_calldata",
    "verify",
    "verify_proof",
]
