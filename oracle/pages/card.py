"""The model card: one self-contained HTML page about a compiled model, for the people who
vote on it or audit it.

`gather_card` reads a model directory (``zkoracle compile`` + ``setup``) and measures what
the manifest does not hold: the error of the circuit against onnxruntime sample by sample,
the time of one real proof, the verifier's gas; with an RPC endpoint it also checks the
hub's registration (`oracle.pages.audit`). `render_card` draws it. A voter should be able
to answer "is this the model we approved, and how exact is it" from the page alone.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from circuits import Manifest, load_key_info, manifest_sha256, prove, sample_errors
from oracle.hub import ModelArtifacts
from oracle.hub.artifacts import verifying_key_hash
from oracle.pages import audit
from oracle.pages.charts import BarChart, Histogram, bar_chart, histogram
from oracle.pages.render import render

#: What a manifest without a ``visibility`` section states: everything is public.
DEFAULT_VISIBILITY = {"inputs": "public", "outputs": "public", "weights": "public"}


@dataclass(frozen=True)
class Hash:
    what: str
    file: str
    algorithm: str
    value: str


@dataclass(frozen=True)
class ErrorFigures:
    kind: str
    count: int
    overflows: int
    max: float
    mean: float
    p99: float
    compile_max: float | None  # what the manifest recorded when the model was compiled
    bound: float | None  # certified bound, if the compiler certified one
    bound_note: str
    chart: Histogram


@dataclass(frozen=True)
class Proving:
    backend: str
    kind: str
    development: bool
    witness_s: float
    prove_s: float
    proving_key_bytes: int
    verification_key_bytes: int
    gas: audit.GasFigure


@dataclass(frozen=True)
class CardData:
    model_dir: str
    source: str
    manifest: dict[str, Any]
    hashes: list[Hash]
    operators: list[tuple[str, int]]  # (op type, nodes)
    visibility: dict[str, str]
    commitments: list[dict[str, Any]]
    error: ErrorFigures
    nodes: BarChart
    proving: Proving | None
    registry: audit.RegistryCheck | None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hashes(d: Path, art: ModelArtifacts | None, manifest: dict[str, Any]) -> list[Hash]:
    rows = [
        Hash("ONNX model", manifest["model"]["file"], "sha256", manifest["model"]["sha256"]),
        Hash("constraint system", manifest["r1cs"]["file"], "sha256", manifest["r1cs"]["sha256"]),
        Hash("manifest (the hub's manifestHash)", "manifest.json", "sha256", manifest_sha256(d)),
    ]
    if art is not None:
        vk_file = load_key_info(d).verification_key
        rows.append(Hash("verification key", vk_file.name, "sha256", _sha256(vk_file)))
        rows.append(
            Hash("verification key words", vk_file.name, "keccak256",
                 verifying_key_hash(art.vk).hex())
        )  # fmt: skip
    return rows


def _bound(report: dict[str, Any]) -> tuple[float | None, str]:
    """The certified error bound the compiler recorded, and what it covers."""
    if isinstance(report.get("certified_bound"), int | float):
        return float(report["certified_bound"]), "certified bound of the whole model"
    approx = [a for a in report.get("approximations", []) if "max_abs_error" in a]
    if approx:
        worst = max(approx, key=lambda a: float(a["max_abs_error"]))
        return float(worst["max_abs_error"]), (
            f"certified bound of the {worst.get('function', worst.get('op_type', '?'))} "
            f"approximation at node {worst.get('node', '?')} (the largest of {len(approx)})"
        )
    return None, (
        "no nonlinearity is approximated: the error comes only from rounding inputs, "
        "weights and activations to fixed point, and no end-to-end bound is certified"
    )


def _error(d: Path, manifest: dict[str, Any], samples: Path | None, n: int) -> ErrorFigures:
    measured = sample_errors(d, samples, n)
    report = manifest.get("error_report", {})
    errors = measured.errors
    bound, note = _bound(report)
    compile_max = float(report["max_abs_err"]) if "max_abs_err" in report else None
    worst = max(errors, default=0.0)
    marks = [(worst, "largest measured", "max")]
    if bound is not None:
        marks.append((bound, "certified bound", "bound"))
    return ErrorFigures(
        kind=measured.kind,
        count=len(errors),
        overflows=measured.overflows,
        max=worst,
        mean=float(np.mean(errors)) if errors else 0.0,
        p99=float(np.quantile(errors, 0.99)) if errors else 0.0,
        compile_max=compile_max,
        bound=bound,
        bound_note=note,
        chart=histogram(errors, marks, x_label="largest |circuit − onnxruntime| per sample"),
    )


def _proving(d: Path, art: ModelArtifacts, measure_gas: bool) -> tuple[Proving, Any]:
    m = art.manifest
    rng = np.random.default_rng(7)
    sample = {s.name: rng.uniform(-0.5, 0.5, s.shape) for s in m.inputs}
    result = prove(d, sample, binding=1)
    gas = (
        audit.measure_gas(art, result.proof, result.public)
        if measure_gas
        else audit.estimate_gas(result.proof, result.public)
    )
    key = load_key_info(d)
    proving = Proving(
        backend=key.backend,
        kind=key.kind,
        development=key.is_development,
        witness_s=result.witness_s,
        prove_s=result.prove_s,
        proving_key_bytes=key.proving_key.stat().st_size,
        verification_key_bytes=key.verification_key.stat().st_size,
        gas=gas,
    )
    return proving, result


@dataclass(frozen=True)
class RegistryQuery:
    rpc: str
    hub: str
    model_id: bytes


def gather_card(
    model_dir: str | Path,
    *,
    samples: str | Path | None = None,
    n_samples: int = 64,
    measure_gas: bool = False,
    registry: RegistryQuery | None = None,
) -> CardData:
    """Everything the card shows (see the module docstring). Without keys the card still
    describes the circuit and its error; proving, gas and registry need keys."""
    d = Path(model_dir)
    Manifest.load(d)  # a clear error for a directory that is not a model
    manifest = json.loads((d / "manifest.json").read_text())
    has_keys = (d / "setup.json").is_file()
    art = ModelArtifacts.load(d) if has_keys else None
    proving = result = None
    if art is not None:
        proving, result = _proving(d, art, measure_gas)
    check = None
    if registry is not None and art is not None and result is not None:
        check = audit.check_registry(
            registry.rpc, registry.hub, registry.model_id, art, result.proof, result.public
        )
    ops = Counter(
        n["op_type"] for n in manifest["nodes"] if n["op_type"] not in ("Input", "Output")
    )
    nodes = [
        (f"{n['name']} ({n['op_type']})", int(n["constraints"]), "") for n in manifest["nodes"]
    ]
    return CardData(
        model_dir=str(d),
        source=str(manifest["source"]),
        manifest=manifest,
        hashes=_hashes(d, art, manifest),
        operators=sorted(ops.items()),
        visibility={**DEFAULT_VISIBILITY, **manifest.get("visibility", {})},
        commitments=list(manifest.get("commitments", [])),
        error=_error(d, manifest, Path(samples) if samples else None, n_samples),
        nodes=bar_chart(nodes),
        proving=proving,
        registry=check,
    )


def render_card(card: CardData) -> str:
    """The model card (HTML) of `card`."""
    return render("card.html", c=card, q=card.manifest["quantization"])
