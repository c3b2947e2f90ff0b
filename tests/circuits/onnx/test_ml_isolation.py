"""scikit-learn IsolationForest through skl2onnx: the leaf chains folded into one ensemble
(`circuits.onnx.ml_isolation`), anomaly scores and labels against onnxruntime."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.ensemble import IsolationForest

from circuits.onnx.calibrate import run_reference
from circuits.onnx.ml_isolation import rewrite_isolation_forest
from circuits.testing import prove_and_verify
from tests.circuits.onnx.ml_harness import certified, compile_onnx, export
from tests.circuits.onnx.test_ml_trees import near_threshold

#: Rounding of the free linear steps after the trees (the division by n_trees c, the
#: multiplication by ln 2, each rescaled once at 2^-16), which the manifest does not list.
LINEAR_ROUNDING = 4 * 2.0**-17


def _forest() -> tuple[onnx.ModelProto, np.ndarray]:
    rng = np.random.default_rng(11)
    train = rng.normal(size=(300, 4)).astype(np.float32)
    held = np.concatenate([rng.normal(size=(170, 4)), rng.uniform(-4, 4, (40, 4))])
    est = IsolationForest(n_estimators=30, max_samples=64, random_state=0).fit(train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = export(est, train, target_opset={"": 17, "ai.onnx.ml": 3})
    return model, held.astype(np.float32)


def test_the_rewrite_is_faithful_to_the_exported_graph() -> None:
    model, held = _forest()
    folded = rewrite_isolation_forest(model)
    ops = [n.op_type for n in folded.graph.node]
    assert ops.count("TreeEnsembleRegressor") == 1 and "LabelEncoder" not in ops
    assert "Pow" not in ops and "Exp" in ops
    a = ort.InferenceSession(model.SerializeToString()).run(None, {"X": held})
    b = ort.InferenceSession(folded.SerializeToString()).run(None, {"X": held})
    assert np.array_equal(a[0], b[0]) and np.abs(a[1] - b[1]).max() < 1e-6


def test_isolation_forest_scores_and_labels_match_onnxruntime() -> None:
    model, held = _forest()
    compiled = compile_onnx(model)
    bound = certified(compiled) + LINEAR_ROUNDING
    refs = run_reference(compiled.graph, [{"X": held[i : i + 1]} for i in range(len(held))])
    near = near_threshold(rewrite_isolation_forest(model), held)
    label_mismatch, worst = [], 0.0
    for i, ref in enumerate(refs):
        w = compiled.witness({"X": held[i : i + 1]}, check=True)
        got = compiled.outputs_from_public(w.public)
        score = float(np.asarray(ref["scores"]).reshape(-1)[0])
        if int(got["label"].reshape(-1)[0]) != int(np.asarray(ref["label"]).reshape(-1)[0]):
            label_mismatch.append(i)
        if i not in near:
            worst = max(worst, abs(float(got["scores"].reshape(-1)[0]) - score))
            if abs(score) <= bound:  # the sign of the score is the label
                near.add(i)
    assert set(label_mismatch) <= near, (label_mismatch, near)
    assert worst <= bound
    assert len(held) - len(near) >= 200, len(near)
    prove_and_verify(compiled.circuit, [compiled.witness({"X": held[:1]})])
