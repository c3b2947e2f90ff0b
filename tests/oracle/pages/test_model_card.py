"""The model card: its figures are the artifacts' own, its charts are inline SVG, nothing
on it loads from the network, and with --rpc it tells a matching registration from a
missing or different one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import circuits
from circuits import manifest_sha256
from oracle import chain as chains
from oracle.cli import main
from oracle.hub import ModelArtifacts, deploy_model
from oracle.hub.artifacts import verifying_key_hash
from oracle.pages import audit
from oracle.pages.card import RegistryQuery, gather_card, render_card


def _card(model_dir: Path, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "card.html"
    assert main(["card", str(model_dir), "-o", str(out), "--n-samples", "32", *extra]) == 0
    return out.read_text()


def test_the_card_shows_the_artifacts_hashes_shapes_and_costs(
    model_dir: Path, tmp_path: Path
) -> None:
    html = _card(model_dir, tmp_path)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    vk = model_dir / "verification_key.json"
    for value in (
        manifest["model"]["sha256"],
        manifest["r1cs"]["sha256"],
        manifest_sha256(model_dir),
        hashlib.sha256(vk.read_bytes()).hexdigest(),
        verifying_key_hash(ModelArtifacts.load(model_dir).vk).hex(),
    ):
        assert value in html
    assert f"{manifest['constraints']} constraints" in html
    assert 'data-io="x"' in html and "1 × 3" in html and "1 × 2" in html
    assert "<code>Gemm</code> × 2, <code>Relu</code> × 1" in html
    for node in manifest["nodes"]:
        assert f'data-value="{node["constraints"]}"' in html
    pk = (model_dir / "proving_key.bin").stat().st_size
    assert f'data-bytes="{pk}"' in html
    assert 'data-method="estimated"' in html
    # Self-contained: no script, no external resource, charts inline.
    assert "<script" not in html and "src=" not in html and "@import" not in html
    assert html.count("<svg") == 2 and "http" not in html.replace("http-equiv", "")


def test_the_error_shown_is_measured_against_onnxruntime(model_dir: Path) -> None:
    card = gather_card(model_dir, n_samples=32)
    again = circuits.sample_errors(model_dir, None, 32)
    assert card.error.count == 32 and card.error.max == max(again.errors)
    assert 0 < card.error.max < 1e-4  # the default precision's promise
    assert sum(1 for b in card.error.chart.bars if b.height > 0) >= 2
    assert card.error.bound is None and "no end-to-end bound" in card.error.bound_note
    html = render_card(card)
    assert f'data-value="{card.error.max}"' in html


def test_the_estimated_gas_is_the_eip1108_floor(model_dir: Path) -> None:
    card = gather_card(model_dir, n_samples=4)
    assert card.proving is not None
    k = json.loads((model_dir / "manifest.json").read_text())["public_inputs"]["n_public"]
    data_len = 4 + 32 * (8 + k)
    gas = card.proving.gas.gas - 21_000 - 45_000 - 4 * 34_000 - 6_150 * k
    assert 4 * data_len <= gas <= 16 * data_len  # what is left is calldata


@pytest.mark.anvil
def test_with_rpc_the_card_checks_the_hubs_registration(model_dir: Path, tmp_path: Path) -> None:
    with chains.anvil(signer=None) as chain:
        assert chain._node is not None
        dep = deploy_model(chain, model_dir, name="card-mlp")
        query = RegistryQuery(chain._node.url, dep.hub, dep.model_id)
        card = gather_card(model_dir, n_samples=4, registry=query)
        unknown = RegistryQuery(chain._node.url, dep.hub, b"\x01" * 32)
        missing = gather_card(model_dir, n_samples=4, registry=unknown)
    r = card.registry
    assert r is not None and r.matches and r.found
    assert r.accepts_proof and r.rejects_tampered
    names = {f.name for f in r.fields}
    assert {"onnx_sha256", "r1cs_sha256", "manifest_hash", "n_inputs", "output_scale"} <= names
    assert missing.registry is not None and not missing.registry.found
    assert not missing.registry.matches
    html = render_card(card)
    assert 'class="verdict ok"' in html and "DIFFERS" not in html
    assert 'class="verdict bad"' in render_card(missing)


def test_a_different_model_does_not_match_the_registration(model_dir: Path, tmp_path: Path) -> None:
    """Fields that differ are named; a verifier of other keys fails the proof check."""
    art = ModelArtifacts.load(model_dir)
    names = ("onnx_sha256", "r1cs_sha256", "manifest_hash", "n_inputs", "n_outputs")
    registered = {name: getattr(art.spec("0x" + "00" * 20), name) for name in names}
    registered["manifest_hash"] = b"\x00" * 32
    fields = {f.name: f for f in audit._compare({"verifier": "0x" + "00" * 20, **registered}, art)}
    assert not fields["manifest_hash"].matches and fields["onnx_sha256"].matches
    check = audit.RegistryCheck("http://h", 1, "0xhub", "0xid", True, list(fields.values()),
                                accepts_proof=True, rejects_tampered=True)  # fmt: skip
    assert not check.matches


def test_names_from_the_model_are_escaped(model_dir: Path) -> None:
    card = gather_card(model_dir, n_samples=2)
    manifest = dict(card.manifest)
    manifest["source"] = '<script>alert("x")</script>.onnx'
    html = render_card(card.__class__(**{**card.__dict__, "manifest": manifest,
                                         "source": manifest["source"]}))  # fmt: skip
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_card_refuses_half_a_registry_query(model_dir: Path) -> None:
    assert main(["card", str(model_dir), "--rpc", "http://127.0.0.1:1"]) == 2


def test_card_of_a_folder_without_a_model_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["card", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/manifest.json" in err and "zkoracle compile" in err


def test_measured_gas_is_just_above_the_estimated_floor(model_dir: Path) -> None:
    card = gather_card(model_dir, n_samples=2, measure_gas=True)
    assert card.proving is not None and card.proving.gas.method == "measured"
    proof = circuits.prove(model_dir, {"x": [[0.1, 0.2, 0.3]]}, binding=5)
    floor = audit.estimate_gas(proof.proof, proof.public).gas
    # Calldata differs between two proofs by a few zero bytes at most.
    assert floor < card.proving.gas.gas < floor * 1.03


def test_visibility_and_commitments_come_from_the_manifest_when_it_has_them(
    model_dir: Path, tmp_path: Path
) -> None:
    private = tmp_path / "private"
    vis = circuits.Visibility("private", "private", "public")
    circuits.compile_model(model_dir / "model.onnx", private, visibility=vis)
    card = gather_card(private, n_samples=2)
    assert card.visibility == {"inputs": "private", "outputs": "public", "weights": "private",
                               "claim": None}  # fmt: skip
    assert [c["name"] for c in card.commitments] == ["inputs", "weights"]
    html = render_card(card)
    assert "chosen by the requester" in html and "weights-opening.json" in html
    assert manifest_sha256(private) in html  # the card names the manifest it read


def test_a_model_without_keys_gets_a_card_that_says_what_is_missing(tmp_path: Path) -> None:
    import onnx

    from circuits.onnx import examples

    onnx.save(examples.mlp([2, 3, 1], seed=2), tmp_path / "m.onnx")
    circuits.compile_model(tmp_path / "m.onnx", tmp_path / "m")
    card = gather_card(tmp_path / "m", n_samples=8)
    assert card.proving is None and len(card.hashes) == 3 and card.error.count == 8
    assert f"zkoracle setup {tmp_path / 'm'}" in render_card(card)
