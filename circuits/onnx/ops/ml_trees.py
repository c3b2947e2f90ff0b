"""Tree ensemble operators: TreeEnsembleClassifier, TreeEnsembleRegressor (ai.onnx.ml
opsets 1 and 3) and TreeEnsemble (opset 5). The trees are read by `ml_tree_ir` and
evaluated by `ml_tree_circuit` (see there for the cost and the soundness argument); the
scores then go through `ml_post` like a linear model's.

A binary classifier whose votes all go to class 0 (the gradient-boosting layout) has one
score s and follows onnxruntime: the label is [s > 0] ([s > 0.5] when every weight is
non-negative) and the two probability columns are [-s, s], [1 - s, s] or, after LOGISTIC,
[1 - sigmoid(s), sigmoid(s)].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.ml_post import (
    binary_columns,
    class_labels,
    int_labels,
    positive,
    post_transform,
)
from circuits.onnx.ops.ml_tree_circuit import scores
from circuits.onnx.ops.ml_tree_ir import Ensemble, TreeFormatError, parse_v3, parse_v5
from circuits.onnx.registry import ML_DOMAIN, onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, linear

_COMMON = {"nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
           "nodes_values_as_tensor", "nodes_truenodeids", "nodes_falsenodeids", "nodes_hitrates",
           "nodes_hitrates_as_tensor", "nodes_missing_value_tracks_true", "base_values",
           "base_values_as_tensor", "post_transform"}  # fmt: skip
_REGRESSOR = _COMMON | {"n_targets", "aggregate_function", "target_treeids", "target_nodeids",
                        "target_ids", "target_weights", "target_weights_as_tensor"}  # fmt: skip
_CLASSIFIER = _COMMON | {"class_treeids", "class_nodeids", "class_ids", "class_weights",
                         "class_weights_as_tensor", "classlabels_int64s",
                         "classlabels_strings"}  # fmt: skip
_V5 = {"aggregate_function", "leaf_targetids", "leaf_weights", "membership_values", "n_targets",
       "nodes_falseleafs", "nodes_falsenodeids", "nodes_featureids", "nodes_hitrates",
       "nodes_missing_value_tracks_true", "nodes_modes", "nodes_splits", "nodes_trueleafs",
       "nodes_truenodeids", "post_transform", "tree_roots"}  # fmt: skip


def _check_attrs(ctx: LoweringContext, attrs: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(attrs) - known)
    if unknown:
        raise ctx.unsupported(f"attribute(s) {unknown}")


def _parse(ctx: LoweringContext, fn: Any, *args: Any) -> Ensemble:
    try:
        ens: Ensemble = fn(*args)
    except (TreeFormatError, ValueError, IndexError) as e:
        raise ctx.error(f"malformed tree ensemble: {e}") from e
    if ens.aggregate not in ("SUM", "AVERAGE", "MIN", "MAX"):
        raise ctx.unsupported(f"attribute aggregate_function = {ens.aggregate!r}")
    return ens


@onnx_op("TreeEnsembleRegressor", ML_DOMAIN)
def TreeEnsembleRegressor(ctx: LoweringContext, X: Operand, **attrs: Any) -> Result:
    """The aggregated target values, then the post transform."""
    _check_attrs(ctx, attrs, _REGRESSOR)
    ens = _parse(ctx, parse_v3, attrs, "target", int(attrs.get("n_targets", 1)))
    return post_transform(ctx, scores(ctx, X, ens), ens.post)


@onnx_op("TreeEnsemble", ML_DOMAIN)
def TreeEnsemble(ctx: LoweringContext, X: Operand, **attrs: Any) -> Result:
    """Opset 5's regressor with set membership; the post transform as for the others."""
    _check_attrs(ctx, attrs, _V5)
    ens = _parse(ctx, parse_v5, attrs)
    return post_transform(ctx, scores(ctx, X, ens), ens.post)


@onnx_op("TreeEnsembleClassifier", ML_DOMAIN)
def TreeEnsembleClassifier(ctx: LoweringContext, X: Operand, **attrs: Any) -> Result:
    """(label, probabilities); see the module docstring for the binary layout."""
    _check_attrs(ctx, attrs, _CLASSIFIER)
    ints, strings = attrs.get("classlabels_int64s"), attrs.get("classlabels_strings")
    n_labels = len(ints or strings or [])
    labels = int_labels(ctx, ints, strings, n_labels)
    binary = n_labels == 2 and all(int(k) == 0 for k in attrs.get("class_ids") or [])
    ens = _parse(ctx, parse_v3, attrs, "class", 1 if binary else n_labels)
    raw = scores(ctx, X, ens)
    if not binary:
        return class_labels(ctx, raw, labels), post_transform(ctx, raw, ens.post)
    if len(ens.base) > 1:
        raise ctx.unsupported("two base_values for a binary model voting for class 0 only")
    s = QTensor(raw.values[:, 0], raw.scale, raw.bound)
    weights = attrs.get("class_weights_as_tensor")
    weights = weights if weights is not None else attrs.get("class_weights") or []
    all_positive = bool(np.all(np.asarray(weights, dtype=np.float64) >= 0))
    bit = positive(ctx, s, 0.5 if all_positive else 0.0)
    label = bit.map(
        lambda v: linear([(1, labels[0]), (labels[1] - labels[0], v)]),
        scale=0,
        bound=max(abs(v) for v in labels),
    )
    if all_positive and ens.post == "NONE":
        one = 1 << s.scale
        col = s.values.reshape(-1, 1)
        probs = np.concatenate([one - col, col], axis=1)
        return label, QTensor(np.asarray(probs, dtype=object), s.scale, one + s.bound)
    return label, binary_columns(ctx, s, ens.post)
