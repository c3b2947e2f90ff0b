"""`zkoracle compile | setup | prove | verify | info` through `oracle.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from circuits.onnx.calibrate import run_reference
from circuits.onnx.examples import mlp, save
from circuits.onnx.loader import load_model
from oracle.cli import main


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    model = save(mlp((4, 6, 2), seed=11), d / "m.onnx")
    calib = d / "calib.json"
    rng = np.random.default_rng(0)
    calib.write_text(json.dumps({"input_data": [rng.uniform(-2, 2, 4 * 8).tolist()]}))
    assert main(["compile", str(model), "-o", str(d / "out"), "--calibration", str(calib)]) == 0
    assert main(["setup", str(d / "out")]) == 0
    return d


def test_setup_estimates_its_time_for_every_backend() -> None:
    import circuits
    from oracle.commands.setup import SECONDS_PER_CONSTRAINT

    assert set(SECONDS_PER_CONSTRAINT) == set(circuits.BACKENDS)


def test_compile_prints_paths_and_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = save(mlp((4, 6, 2)), tmp_path / "m.onnx")
    assert main(["compile", str(model), "-o", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "constraints" in out and f"next: zkoracle setup {tmp_path / 'o'}" in out
    assert (tmp_path / "o" / "manifest.json").is_file() and (
        tmp_path / "o" / "circuit.r1cs"
    ).is_file()


@pytest.mark.parametrize("layout", ["ezkl", "named"])
def test_prove_then_verify(
    artifacts: Path, layout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    x = [0.25, -1.5, 0.75, 1.0]
    doc = {"input_data": [x]} if layout == "ezkl" else {"x": [x]}
    inp = artifacts / f"in_{layout}.json"
    inp.write_text(json.dumps(doc))
    res = artifacts / f"res_{layout}"
    assert (
        main(
            [
                "prove",
                str(artifacts / "out"),
                "--input",
                str(inp),
                "--binding",
                "0x1234",
                "-o",
                str(res),
            ]
        )
        == 0
    )
    public = json.loads((res / "public.json").read_text())
    assert public[0] == str(0x1234)
    output = json.loads((res / "output.json").read_text())
    (want_all,) = run_reference(load_model(artifacts / "m.onnx"), [{"x": np.array([x])}])
    want = want_all["y"]
    assert np.max(np.abs(np.array(output["outputs"]["y"]) - want)) < 1e-3
    capsys.readouterr()
    args = [
        "verify",
        str(artifacts / "out"),
        "--proof",
        str(res / "proof.json"),
        "--public",
        str(res / "public.json"),
    ]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("valid")
    public[-1] = str(int(public[-1]) + 1)
    (res / "public.json").write_text(json.dumps(public))
    assert main(args) == 1
    assert "INVALID" in capsys.readouterr().out


def test_info(artifacts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(artifacts / "out")]) == 0
    out = capsys.readouterr().out
    assert "constraints per node:" in out and "Relu" in out and "error vs onnxruntime" in out
    assert main(["info", str(artifacts / "out"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["setup"]["backend"] == "native"


def test_errors_exit_2_with_a_message(
    artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    assert main(["compile", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "zkoracle compile: error:" in capsys.readouterr().err
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps({"x": [[500.0, 0, 0, 0]]}))
    assert main(["prove", str(artifacts / "out"), "--input", str(inp)]) == 2
    assert "input 'x'[0] = 500.0 is outside the compiled range" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "zkoracle verify: error:" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.snarkjs
def test_snarkjs_setup_then_ceremony_key_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A snarkjs setup's .zkey adopted by `setup --zkey`: proofs of both verify."""
    model = save(mlp((3, 4, 1), seed=5), tmp_path / "m.onnx")
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps({"x": [0.5, -0.25, 1.0]}))
    for d in ("sj", "imported"):
        assert main(["compile", str(model), "-o", str(tmp_path / d)]) == 0
    assert main(["setup", str(tmp_path / "sj"), "--backend", "snarkjs"]) == 0
    zkey = tmp_path / "sj" / "circuit.zkey"
    assert main(["setup", str(tmp_path / "imported"), "--zkey", str(zkey)]) == 0
    assert "imported ceremony key" in capsys.readouterr().out
    for d in ("sj", "imported"):
        assert main(["prove", str(tmp_path / d), "--input", str(inp)]) == 0
        assert main(["verify", str(tmp_path / d)]) == 0
    # the two directories share the verifying key, so their proofs are interchangeable
    vk = [
        json.loads((tmp_path / d / "verification_key.json").read_text()) for d in ("sj", "imported")
    ]
    assert vk[0]["vk_delta_2"] == vk[1]["vk_delta_2"]
