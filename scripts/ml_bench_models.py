"""The ONNX-ML and recurrent models of `bench_models.py`, trained or built here on
generated data (nothing is downloaded), and the extra columns they report.

* ``gbdt_100x3_f16``: scikit-learn GradientBoostingClassifier, 100 trees of depth 3, 16
  features (exported by skl2onnx: TreeEnsembleClassifier, LOGISTIC, ZipMap);
* ``rf_50x6_f16``: RandomForestClassifier, 50 trees of depth at most 6, 16 features;
* ``logreg_f16``: LogisticRegression on 16 features (LinearClassifier, ZipMap);
* ``lstm_s8_f4_h8`` / ``gru_s8_f4_h8``: torch nn.LSTM / nn.GRU over 8 steps of 4 features,
  hidden size 8, and a linear read-out, as torch.onnx.export wrote them (the committed
  fixtures of scripts/export_rnn_fixtures.py).

`extra_columns` gives constraints per interior tree node or per time step (from the
compiler's records) and
the label agreement with onnxruntime (the labels must be equal except for rows with a
feature within one quantization step of a threshold: counted as ``near_threshold``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from circuits.onnx.compiler import CompiledModel

FEATURES = 16
STEP = 2.0**-16


def _data(seed: int, rows: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (rows, FEATURES)).astype(np.float32)
    z = x @ rng.normal(size=FEATURES) + np.sin(3 * x[:, 0]) + 0.2 * rng.normal(size=rows)
    return x, (z > 0).astype(np.int64)


def _export(est: Any, x: np.ndarray) -> onnx.ModelProto:
    from skl2onnx import to_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model: onnx.ModelProto = to_onnx(est, x[:1])
    return model


def gbdt() -> onnx.ModelProto:
    from sklearn.ensemble import GradientBoostingClassifier

    x, y = _data(1)
    return _export(GradientBoostingClassifier(n_estimators=100, max_depth=3).fit(x, y), x)


def forest() -> onnx.ModelProto:
    from sklearn.ensemble import RandomForestClassifier

    x, y = _data(2)
    est = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0).fit(x, y)
    return _export(est, x)


def logreg() -> onnx.ModelProto:
    from sklearn.linear_model import LogisticRegression

    x, y = _data(3)
    return _export(LogisticRegression().fit(x, y), x)


FIXTURES = Path(__file__).resolve().parent.parent / "tests/circuits/onnx/fixtures"


def fixture(name: str) -> Callable[[], onnx.ModelProto]:
    return lambda: onnx.load(str(FIXTURES / f"{name}.onnx"))


MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "gbdt_100x3_f16": gbdt,
    "rf_50x6_f16": forest,
    "logreg_f16": logreg,
    "lstm_s8_f4_h8": fixture("torch_lstm_s8_f4_h8"),
    "gru_s8_f4_h8": fixture("torch_gru_s8_f4_h8"),
}
TARGET_PROVE_S = {
    "gbdt_100x3_f16": 1.5,
    "rf_50x6_f16": float("nan"),
    "logreg_f16": 0.1,
    "lstm_s8_f4_h8": 4.0,
    "gru_s8_f4_h8": float("nan"),
}


def _thresholds(model: onnx.ModelProto) -> dict[int, np.ndarray]:
    out: dict[int, list[float]] = {}
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        for f, v in zip(
            attrs.get("nodes_featureids", []), attrs.get("nodes_values", []), strict=False
        ):
            out.setdefault(int(f), []).append(float(v))
    return {f: np.asarray(v) for f, v in out.items()}


def near_threshold(model: onnx.ModelProto, x: np.ndarray) -> bool:
    """True when a feature of the row x lies within one quantization step of a threshold."""
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    return any(bool(np.any(np.abs(flat[f] - ts) <= STEP)) for f, ts in _thresholds(model).items())


def extra_columns(
    compiled: CompiledModel,
    model: onnx.ModelProto,
    inputs: Sequence[dict[str, Any]],
    got: Sequence[dict[str, np.ndarray]],
    refs: Sequence[dict[str, np.ndarray]],
) -> dict[str, Any]:
    """per_node (constraints per interior tree node or per time step), label_agree and
    near_threshold."""
    recs = {a.get("function"): a for a in compiled.approximations}
    per_node = float("nan")
    if "tree_ensemble" in recs:
        per_node = float(recs["tree_ensemble"]["constraints_per_internal_node"])
    elif "recurrent" in recs:
        per_node = float(recs["recurrent"]["constraints_per_step"])
    labels = [k for k in (refs[0] if refs else {}) if "label" in k]
    if not labels:
        return {"per_node": per_node, "label_agree": float("nan"), "near_threshold": 0}
    agree, near = 0, 0
    for x, g, r in zip(inputs, got, refs, strict=True):
        same = all(np.array_equal(g[k].reshape(-1), np.asarray(r[k]).reshape(-1)) for k in labels)
        agree += same
        near += (not same) and near_threshold(model, next(iter(x.values())))
    return {"per_node": per_node, "label_agree": agree / len(inputs), "near_threshold": near}
