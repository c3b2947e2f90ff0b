"""The files of a proof (snarkjs JSON, outputs, salts) and of the inputs a user gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from circuits.errors import FormatError
from circuits.formats.snarkjs_json import read_proof, read_public, write_proof, write_public
from circuits.groth16.data import Proof
from circuits.model_store import ProveResult
from circuits.onnx.inputs import Sample, load_samples, single_sample
from circuits.onnx.manifest import Manifest
from circuits.onnx.opening import save_salts


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
