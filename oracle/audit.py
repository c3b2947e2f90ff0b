"""Audit a registered model: does the hub's registration match the published artifacts?

Inputs: the hub and model id on a chain, the model's published directory (manifest.json
and verification_key.json, as ``zkoracle compile`` + ``setup`` wrote them), the ONNX
model (public weights; for private weights, if the owner discloses it) and, for private
weights, the owner's opening of the weights commitment.

Checks, each a row of the report (what was compared, both values, pass or fail):

* the manifest's sha256 equals the registered ``manifestHash``;
* the ONNX file's sha256 equals the manifest's and the registered ``onnxSha256``;
* recompiling the ONNX file with the manifest's quantization and visibility gives a
  constraint system whose sha256 equals the manifest's and the registered ``r1csSha256``;
* the verification key was set up for that constraint system (its recorded r1cs hash);
* the verifier's deployed code equals the runtime code of the verifier rendered from the
  verification key and compiled here (obtained by running its creation code in an
  ``eth_call`` on the same node);
* the registered layout (counts, widths, packings, scales, privacy) equals the manifest's;
* private weights: the registered commitment equals the manifest's, and the opened weights
  (with their salt) hash to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_utils.crypto import keccak

from circuits import opened_weights_commitment, recompiled_hashes
from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub import Hub, ModelArtifacts, compile_model_verifier
from oracle.hub.records import RegisteredModel


@dataclass(frozen=True)
class Check:
    """One line of the audit: what was compared, the two values, and the verdict."""

    name: str
    expected: str
    found: str

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def _short(v: str, n: int = 18) -> str:
    return v if len(v) <= n else v[:n] + "..."


def format_report(checks: list[Check]) -> str:
    """The report as a fixed-width table."""
    rows = [("check", "expected", "found", "result")]
    rows += [
        (c.name, _short(c.expected), _short(c.found), "pass" if c.ok else "FAIL") for c in checks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)


def audit(
    chain: Chain,
    hub_address: str,
    model_id: bytes,
    model_dir: str | Path,
    onnx_path: str | Path | None = None,
    weights: str | Path | None = None,
) -> list[Check]:
    """Every check of the module docstring, in order."""
    hub = Hub(chain, hub_address)
    reg = hub.model(model_id)
    if reg is None:
        raise OracleError(f"model 0x{model_id.hex()} is not registered on hub {hub_address}")
    art = ModelArtifacts.load(model_dir)
    m = art.manifest
    checks = [
        Check("manifest sha256", reg["manifest_hash"].hex(), art.manifest_hash.hex()),
        Check("r1cs sha256 (manifest)", reg["r1cs_sha256"].hex(), m.r1cs_sha256),
        Check("onnx sha256 (manifest)", reg["onnx_sha256"].hex(), m.onnx_sha256),
    ]
    onnx_file = Path(onnx_path) if onnx_path else Path(model_dir) / "model.onnx"
    if onnx_file.is_file():
        checks += _recompiled(art, onnx_file)
    elif m.visibility.weights != "private":
        raise OracleError(f"{onnx_file}: no such file; give the model's ONNX file")
    checks.append(_verifier(chain, art, reg["verifier"]))
    expected = art.spec(reg["verifier"]).as_abi()[4:]
    checks.append(Check("registered layout", repr(expected), repr(_layout(reg))))
    if m.visibility.weights == "private":
        checks += _weights(art, reg["weights_commitment"], weights)
    return checks


def _recompiled(art: ModelArtifacts, onnx_file: Path) -> list[Check]:
    m = art.manifest
    got = recompiled_hashes(art.dir, onnx_file)
    return [
        Check("onnx sha256 (file)", m.onnx_sha256, got.onnx_sha256),
        Check("r1cs sha256 (recompiled)", m.r1cs_sha256, got.r1cs_sha256),
        Check("keys set up for r1cs", m.r1cs_sha256, got.keys_r1cs_sha256),
    ]


def _verifier(chain: Chain, art: ModelArtifacts, verifier: str) -> Check:
    _, compiled = compile_model_verifier(art)
    runtime = bytes(chain.w3.eth.call({"data": compiled.bytecode}))
    deployed = bytes(chain.w3.eth.get_code(verifier))  # type: ignore[arg-type]
    return Check("verifier code keccak256", keccak(runtime).hex(), keccak(deployed).hex())


def _layout(r: RegisteredModel) -> tuple[int, ...]:
    """The registered ModelSpec fields after the hashes (privacy without the stored
    PRIVATE_WEIGHTS bit), in ModelSpec order."""
    return (r["n_inputs"], r["n_outputs"], r["input_bits"], r["inputs_per_word"],
            r["output_bits"], r["outputs_per_word"], r["input_scale"], r["output_scale"],
            r["privacy"] & 3, r["weights_commitment"])  # fmt: skip


def _weights(art: ModelArtifacts, registered: int, path: str | Path | None) -> list[Check]:
    m = art.manifest
    checks = [Check("weights commitment (manifest)", str(registered), str(m.weights_commitment))]
    if path is None:
        return checks
    opened = opened_weights_commitment(art.dir, path)
    checks.append(Check("opened weights commitment", str(registered), str(opened)))
    return checks
