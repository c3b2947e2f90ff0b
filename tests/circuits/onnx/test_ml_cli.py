"""`zkoracle compile` / `info` on a scikit-learn GBDT: the manifest and the info page
carry the constraints per interior tree node; the proof verifies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

import circuits
from oracle.commands.info import describe
from tests.circuits.onnx.ml_harness import data, export


def test_compile_info_prove_verify_gbdt(tmp_path: Path) -> None:
    x, y2, _ = data(30, 200, 4)
    est = GradientBoostingClassifier(n_estimators=6, max_depth=3).fit(x, y2)
    src = tmp_path / "gbdt.onnx"
    src.write_bytes(export(est, x).SerializeToString())
    out = tmp_path / "gbdt"
    circuits.compile_model(src, out)
    lines = describe(circuits.info(out))
    tree = next(line for line in lines if "interior nodes" in line)
    assert "6 trees" in tree and "constraints per interior node" in tree
    circuits.setup(out, progress=lambda _m: None)
    result = circuits.prove(out, {"X": x[:1]}, binding=5)
    assert circuits.verify(out, result.public, result.proof)
    proba = est.predict_proba(x[:1])
    assert np.abs(result.outputs["output_probability"] - proba).max() < 1e-4
    assert int(result.outputs["output_label"][0]) == int(est.predict(x[:1])[0])
