"""The common tail of the ONNX-ML models: post transforms and class labels.

Linear classifiers and tree ensembles both end in raw scores (one column per class or
target), an optional `post_transform` and, for classifiers, the label of the best class.

* `post_transform`: NONE is free; LOGISTIC and SOFTMAX reuse the certified approximations
  of `Sigmoid` and `Softmax` (their error is recorded for the manifest); SOFTMAX_ZERO and
  PROBIT are in `ml_transforms`.
* `class_labels`: the label is computed from the raw scores (every transform is monotone,
  so the order is the same and no rounding of the transform can create a tie): a proved
  arg max (`reduce.argmax`) mapped to the integer class labels.
* `binary_columns`: the two-column output of a single-score binary classifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.gadgets.compare import is_equal, less_than
from circuits.gadgets.reduce import argmax
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.ml_transforms import probit_scores, softmax_zero
from circuits.onnx.ops.nonlinear import Softmax, elementwise
from circuits.onnx.quant import bits_for_bound, quantize
from circuits.onnx.tensor import QTensor, Value, as_lc, linear, object_array

POST_TRANSFORMS = ("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT")


def post_transform(ctx: LoweringContext, scores: QTensor, post: str) -> QTensor:
    """`post` applied to the rows of `scores` (shape (N, C))."""
    if post == "NONE":
        return scores
    if post == "LOGISTIC":
        return elementwise(ctx, scores, "sigmoid")
    if post == "SOFTMAX":
        out = Softmax(ctx, scores, axis=-1)
        assert isinstance(out, QTensor)
        return out
    if post == "SOFTMAX_ZERO":
        return softmax_zero(ctx, scores)
    if post == "PROBIT":
        return probit_scores(ctx, scores)
    raise ctx.error(f"attribute post_transform = {post!r} is not one of {POST_TRANSFORMS}")


def int_labels(
    ctx: LoweringContext, ints: Sequence[int] | None, strings: Sequence[str] | None, n: int
) -> list[int]:
    """The integer class labels, checked against the number of classes `n`."""
    if strings:
        raise ctx.unsupported(
            "attribute classlabels_strings: a circuit states numbers; train the model on "
            "integer class labels (e.g. sklearn LabelEncoder) and map them to names off-chain"
        )
    labels = [int(v) for v in ints or []]
    if len(labels) != n:
        raise ctx.error(f"{len(labels)} class labels for {n} score columns")
    return labels


def class_labels(ctx: LoweringContext, scores: QTensor, labels: Sequence[int]) -> QTensor:
    """The label of the first highest score of each row of `scores` (shape (N, C))."""
    n, b = bits_for_bound(scores.bound), ctx.builder
    out: list[Value] = []
    with ctx.gadget("label"):
        for row in scores.values:
            idx = argmax(b, [as_lc(v) for v in row], n)
            out.append(_map_label(ctx, idx, labels))
    bound = max(abs(v) for v in labels)
    return QTensor(object_array(out, (scores.shape[0],)), 0, bound)


def _map_label(ctx: LoweringContext, idx: LinearCombination, labels: Sequence[int]) -> Value:
    if idx.is_constant():
        return labels[idx.constant_value()]
    if list(labels) == list(range(len(labels))):
        return idx
    if len(labels) == 2:
        return linear([(1, labels[0]), (labels[1] - labels[0], idx)])
    # one is_equal per class (2 constraints each) turns the index into a one-hot vector
    hot = [is_equal(ctx.builder, idx, k) for k in range(len(labels))]
    return linear((lab, h) for lab, h in zip(labels, hot, strict=True))


def positive(ctx: LoweringContext, s: QTensor, threshold: float) -> QTensor:
    """[s > threshold] per element of the column s (shape (N,)), a bit at scale 0."""
    c = int(np.floor(np.ldexp(threshold, s.scale)))
    n = bits_for_bound(max(s.bound, abs(c)))
    with ctx.gadget("label"):
        bits = [less_than(ctx.builder, c, as_lc(v), n) for v in s.values.reshape(-1)]
    return QTensor(object_array(bits, s.shape), 0, 1)


def binary_columns(ctx: LoweringContext, s: QTensor, post: str) -> QTensor:
    """[-s, s] (post NONE) or [1 - p, p] with p = sigmoid(s) (LOGISTIC), shape (N, 2)."""
    col = s.values.reshape(-1, 1)
    if post == "NONE":
        return QTensor(np.concatenate([-col, col], axis=1), s.scale, s.bound)
    if post != "LOGISTIC":
        # onnxruntime's output for this layout under SOFTMAX, SOFTMAX_ZERO or PROBIT is not
        # a transform of the two columns (PROBIT fills half the rows), so nothing to match
        raise ctx.unsupported(
            f"attribute post_transform = {post!r} on a binary classifier with a single score "
            "column; supported there: NONE, LOGISTIC (or write two score columns)"
        )
    p = elementwise(ctx, QTensor(col, s.scale, s.bound), "sigmoid")
    one = int(quantize(np.asarray(1.0), p.scale).item())
    q = np.concatenate([one - p.values, p.values], axis=1)
    return QTensor(np.asarray(q, dtype=object), p.scale, max(p.bound, one + p.bound))
