"""The artifact manifest: what a compiled model directory holds and what its proofs state.

``manifest.json`` records the sha256 of the ONNX model and of ``circuit.r1cs``, the
`QuantConfig`, the inputs and outputs (names, shapes, scales, widths), the ordered
public-input layout (binding, packed inputs, packed outputs), the circuit's size, the
constraints per node and the error measured against onnxruntime when it was compiled.
Its own sha256 is the ``manifestHash`` a model registration carries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from circuits.constraint_system import R1CS_FILE
from circuits.errors import FormatError
from circuits.onnx.model import CompiledModel, IOSpec, NodeCost
from circuits.onnx.quant import QuantConfig
from circuits.onnx.schema import ErrorReport, ManifestJson
from circuits.onnx.statement import PublicLayout
from circuits.onnx.visibility import Visibility

FORMAT = "zkoracle-model/1"
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"


@dataclass(frozen=True)
class Manifest:
    """The content of manifest.json (see the module docstring)."""

    source: str
    onnx_sha256: str
    r1cs_sha256: str
    config: QuantConfig
    inputs: tuple[IOSpec, ...]
    outputs: tuple[IOSpec, ...]
    layout: PublicLayout
    n_constraints: int
    n_wires: int
    nodes: tuple[NodeCost, ...]
    error: ErrorReport
    visibility: Visibility = field(default_factory=Visibility)
    #: How each commitment of the statement is computed, by name (JSON-ready, see
    #: `commitments_json`); manifest.json lists them as ``[{"name": ..., ...}]``.
    commitments: dict[str, Any] = field(default_factory=dict)
    #: The registered commitment to the private weights, None when weights are public.
    weights_commitment: int | None = None

    @property
    def n_public(self) -> int:
        return self.layout.n_public

    @staticmethod
    def of(
        compiled: CompiledModel,
        source: str,
        r1cs_sha256: str,
        error: ErrorReport,
        weights_commitment: int | None = None,
    ) -> Manifest:
        cs = compiled.circuit.cs
        return Manifest(
            source=source,
            onnx_sha256=compiled.graph.sha256,
            r1cs_sha256=r1cs_sha256,
            config=compiled.config,
            inputs=compiled.inputs,
            outputs=compiled.outputs,
            layout=compiled.layout,
            n_constraints=cs.n_constraints,
            n_wires=cs.n_wires,
            nodes=compiled.nodes,
            error=error,
            visibility=compiled.visibility,
            commitments=commitments_json(compiled),
            weights_commitment=weights_commitment,
        )

    def to_json(self) -> ManifestJson:
        return {
            "format": FORMAT,
            "source": self.source,
            "model": {"file": MODEL_FILE, "sha256": self.onnx_sha256},
            "r1cs": {"file": R1CS_FILE, "sha256": self.r1cs_sha256},
            "quantization": self.config.to_json(),
            "inputs": [s.to_json() for s in self.inputs],
            "outputs": [s.to_json() for s in self.outputs],
            "public_inputs": self.layout.to_json(),
            "constraints": self.n_constraints,
            "wires": self.n_wires,
            "nodes": [
                {
                    "index": n.index,
                    "name": n.name,
                    "op_type": n.op_type,
                    "constraints": n.constraints,
                }
                for n in self.nodes
            ],
            "error_report": self.error,
            **self._privacy_json(),  # type: ignore[typeddict-item]
        }

    def _privacy_json(self) -> dict[str, Any]:
        if self.visibility.is_public:
            return {}  # the manifests of public models stay as they were
        wc = self.weights_commitment
        return {
            "visibility": self.visibility.to_json(),
            "commitments": [{"name": k, **v} for k, v in self.commitments.items()],
            "weights_commitment": None if wc is None else str(wc),
        }

    @staticmethod
    def from_json(d: Any, where: str = MANIFEST_FILE) -> Manifest:
        """Read and check a manifest's JSON (as loaded from ``where``)."""
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise FormatError(where, f"format {got!r} is not {FORMAT!r}")
        try:
            return Manifest(
                source=str(d["source"]),
                onnx_sha256=str(d["model"]["sha256"]),
                r1cs_sha256=str(d["r1cs"]["sha256"]),
                config=QuantConfig.from_json(d["quantization"]),
                inputs=tuple(_io(s) for s in d["inputs"]),
                outputs=tuple(_io(s) for s in d["outputs"]),
                layout=PublicLayout.from_json(d["public_inputs"]),
                n_constraints=int(d["constraints"]),
                n_wires=int(d["wires"]),
                nodes=tuple(
                    NodeCost(
                        int(n["index"]),
                        str(n["name"]),
                        str(n["op_type"]),
                        "",
                        int(n["constraints"]),
                    )
                    for n in d["nodes"]
                ),
                # informational only: kept as written, nothing is computed from it
                error=cast(ErrorReport, dict(d["error_report"])),
                visibility=Visibility.from_json(d.get("visibility")),
                commitments={
                    str(c["name"]): {k: v for k, v in c.items() if k != "name"}
                    for c in d.get("commitments", [])
                },
                weights_commitment=(
                    int(d["weights_commitment"]) if d.get("weights_commitment") else None
                ),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(where, f"not a model manifest: {e!r}") from e

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n"

    def save(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_FILE
        path.write_text(self.dumps())
        return path

    @staticmethod
    def load(model_dir: str | Path) -> Manifest:
        path = Path(model_dir) / MANIFEST_FILE
        if not path.is_file():
            raise FormatError(
                str(path),
                "no manifest: compile the model into this directory first (zkoracle compile)",
            )
        try:
            obj = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise FormatError(str(path), f"invalid JSON at line {e.lineno} column {e.colno}") from e
        return Manifest.from_json(obj, str(path))


def manifest_sha256(model_dir: str | Path) -> str:
    """sha256 of manifest.json as written (the registration's manifestHash)."""
    return hashlib.sha256((Path(model_dir) / MANIFEST_FILE).read_bytes()).hexdigest()


def commitments_json(compiled: CompiledModel) -> dict[str, Any]:
    """Per commitment of the statement: the values it covers, in order, their widths and
    the scheme (`circuits.commitment`), so outside tools can recompute it."""
    cfg = compiled.config
    out: dict[str, Any] = {}
    vis = compiled.visibility
    scheme = (
        "values packed 253 // bits per field element (v + 2^(bits-1) at bit bits*j); "
        "h = salt; h = circomlib Poseidon([h, next 15 words]) per chunk; commitment = h"
    )
    if vis.inputs == "private":
        out["inputs"] = {
            "scheme": scheme,
            "values": [f"{s.name} (C order, scale {s.scale})" for s in compiled.inputs],
            "bits": cfg.input_bits,
            "salt": "chosen by the requester, 248 random bits",
        }
    if vis.outputs == "private" and vis.claim is None:
        out["outputs"] = {
            "scheme": scheme,
            "values": [f"{s.name} (C order, scale {s.scale})" for s in compiled.outputs],
            "bits": cfg.output_bits,
            "salt": "chosen by the requester, 248 random bits",
        }
    if vis.weights == "private":
        out["weights"] = {
            "scheme": scheme + "; each tensor packed separately, tensors in this order",
            "tensors": [t.to_json() for t in compiled.private_weights],
            "count": sum(len(t.values) for t in compiled.private_weights),
            "salt": "chosen at compile time, kept in weights-opening.json by the model owner",
        }
    if vis.claim is not None:
        out["claim"] = {"claim": str(vis.claim), "public": ["threshold (quantized)", "result"]}
    return out


def _io(s: dict[str, Any]) -> IOSpec:
    return IOSpec(
        str(s["name"]), tuple(int(v) for v in s["shape"]), int(s["scale"]), int(s["bits"])
    )
