"""What an auditor recomputes from published artifacts, without trusting them.

`recompiled_hashes` recompiles an ONNX file with a manifest's quantization and visibility
and hashes the ONNX file and the resulting constraint system; `opened_weights_commitment`
recomputes a private-weights commitment from the owner's opening, checked against the
tensors the manifest lists. The chain side (`oracle.audit`) compares them with the
registration.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from circuits.formats import r1cs as r1cs_format
from circuits.groth16.backend import load_key_info
from circuits.onnx.compiler import compile_graph
from circuits.onnx.context import PrivateTensor
from circuits.onnx.loader import load_model
from circuits.onnx.manifest import Manifest
from circuits.onnx.opening import WeightsOpening


@dataclass(frozen=True)
class Recompiled:
    """sha256 digests (hex) of an ONNX file, of its recompiled R1CS, and the R1CS digest
    the model directory's keys record."""

    onnx_sha256: str
    r1cs_sha256: str
    keys_r1cs_sha256: str


def recompiled_hashes(model_dir: str | Path, onnx_path: str | Path) -> Recompiled:
    """Recompile `onnx_path` as the manifest of `model_dir` says and hash everything."""
    m = Manifest.load(model_dir)
    data = Path(onnx_path).read_bytes()
    compiled = compile_graph(load_model(onnx_path), m.config, m.visibility)
    r1cs = hashlib.sha256(r1cs_format.encode(compiled.circuit.cs)).hexdigest()
    return Recompiled(hashlib.sha256(data).hexdigest(), r1cs, load_key_info(model_dir).r1cs_sha256)


def opened_weights_commitment(model_dir: str | Path, opening: str | Path) -> int:
    """The commitment the opening file hashes to; `FormatError` when its tensors do not
    match the manifest's (names, sizes, widths)."""
    m = Manifest.load(model_dir)
    tensors = m.commitments.get("weights", {}).get("tensors", [])
    private = [
        PrivateTensor(str(t["name"]), tuple(t["shape"]), int(t["scale"]), int(t["bits"]),
                      (0,) * math.prod(t["shape"]), ())
        for t in tensors
    ]  # fmt: skip
    return WeightsOpening.load(opening, private).commitment
