"""ONNX-ML linear models and preprocessing: LinearClassifier, LinearRegressor, Scaler,
Normalizer, Binarizer, Imputer, ArrayFeatureExtractor, ZipMap.

With constant coefficients a linear model's scores are free linear combinations (as for
Gemm); the classifier's label is a proved arg max of the raw scores and its probabilities
go through the certified post transforms of `ml_post`. Scaler and ArrayFeatureExtractor
are free; Binarizer is one comparison per element, Imputer one equality test and one
selection, Normalizer (L1) an absolute value and a constrained rounded division (MAX
and L2 in `ml_normalize`).

Circuit inputs are finite numbers (NaN and infinities are refused when an input is
quantized), so an Imputer that replaces NaN never fires and is the identity.
ZipMap turns the probabilities into a list of {label: probability} maps: a presentation
detail. The statement carries the probability tensor itself, in class order, under
ZipMap's output name; the node's entry in the manifest's approximation list says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from circuits.gadgets.compare import is_equal, is_zero
from circuits.gadgets.reduce import div_round
from circuits.gadgets.select import abs_
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import add_weight, computed, mul_weight
from circuits.onnx.ops.linear import matmul
from circuits.onnx.ops.ml_normalize import normalize_l2, normalize_max
from circuits.onnx.ops.ml_post import (
    binary_columns,
    class_labels,
    int_labels,
    positive,
    post_transform,
)
from circuits.onnx.quant import bits_for_bound, quantize
from circuits.onnx.registry import ML_DOMAIN, onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, linear, object_array


def _rows(ctx: LoweringContext, X: Operand) -> QTensor:
    x = computed(ctx, X, "X")
    if x.ndim == 1:
        return x.reshape((1, x.shape[0]))
    if x.ndim != 2:
        raise ctx.error(f"input X must have shape [N, C] or [C], got {list(x.shape)}")
    return x


def _scores(
    ctx: LoweringContext, x: QTensor, coefficients: Sequence[float], intercepts: Sequence[float]
) -> QTensor:
    f = x.shape[1]
    w = np.asarray(coefficients, dtype=np.float64)
    if w.size % f:
        raise ctx.error(f"{w.size} coefficients do not split into rows of {f} features")
    w = w.reshape(-1, f)
    y = matmul(ctx, x, w.T, "coefficients")  # committed as (features, scores)
    if intercepts:
        b = np.asarray(intercepts, dtype=np.float64)
        if b.size not in (1, w.shape[0]):
            raise ctx.error(f"{b.size} intercepts for {w.shape[0]} score columns")
        y = add_weight(ctx, y, b.reshape(1, -1), "intercepts")
    return y


@onnx_op("LinearClassifier", ML_DOMAIN)
def LinearClassifier(
    ctx: LoweringContext,
    X: Operand,
    *,
    coefficients: Sequence[float],
    intercepts: Sequence[float] | None = None,
    classlabels_ints: Sequence[int] | None = None,
    classlabels_strings: Sequence[str] | None = None,
    multi_class: int = 0,
    post_transform: str = "NONE",
) -> Result:
    """(label, scores): the label from the raw scores X W^T + b, the scores transformed.
    A single score column with two labels is a binary model: label [s > 0], scores
    [-s, s] or [1 - sigmoid(s), sigmoid(s)], as onnxruntime writes them."""
    x = _rows(ctx, X)
    n_labels = len(classlabels_ints or classlabels_strings or [])
    if n_labels == 2 and _antisymmetric(coefficients, intercepts or [0.0, 0.0], x.shape[1]):
        # scikit-learn writes a binary model as rows (-w, w): one score decides both
        half = len(coefficients) // 2
        coefficients, intercepts = coefficients[half:], (intercepts or [0.0, 0.0])[1:]
    scores = _scores(ctx, x, coefficients, intercepts or [])
    n_cls = scores.shape[1]
    if n_cls == 1 and n_labels == 2:
        labels = int_labels(ctx, classlabels_ints, classlabels_strings, 2)
        s = QTensor(scores.values[:, 0], scores.scale, scores.bound)
        bit = positive(ctx, s, 0.0)
        label = bit.map(lambda v: linear([(1, labels[0]), (labels[1] - labels[0], v)]), scale=0,
                        bound=max(abs(v) for v in labels))  # fmt: skip
        return label, binary_columns(ctx, s, post_transform)
    labels = int_labels(ctx, classlabels_ints, classlabels_strings, n_cls)
    label = class_labels(ctx, scores, labels)
    return label, _post(ctx, scores, post_transform)


def _antisymmetric(w: Sequence[float], b: Sequence[float], f: int) -> bool:
    """True for two score rows with the second the exact negation of the first: then
    argmax = [s > 0] (ties to class 0) and the transformed pair is [-s, s] or
    [1 - sigmoid(s), sigmoid(s)], the single-score layout."""
    if len(w) != 2 * f or len(b) != 2:
        return False
    a = np.asarray(w, dtype=np.float64).reshape(2, f)
    return bool(np.array_equal(a[0], -a[1]) and b[0] == -b[1])


def _post(ctx: LoweringContext, scores: QTensor, post: str) -> QTensor:
    return post_transform(ctx, scores, post)


@onnx_op("LinearRegressor", ML_DOMAIN)
def LinearRegressor(
    ctx: LoweringContext,
    X: Operand,
    *,
    coefficients: Sequence[float],
    intercepts: Sequence[float] | None = None,
    targets: int = 1,
    post_transform: str = "NONE",
) -> Result:
    """X W^T + b (free), then the post transform."""
    scores = _scores(ctx, _rows(ctx, X), coefficients, intercepts or [])
    if scores.shape[1] != targets:
        raise ctx.error(f"{scores.shape[1]} coefficient rows for targets = {targets}")
    return _post(ctx, scores, post_transform)


@onnx_op("Scaler", ML_DOMAIN)
def Scaler(
    ctx: LoweringContext,
    X: Operand,
    *,
    offset: Sequence[float] | None = None,
    scale: Sequence[float] | None = None,
) -> Result:
    """(x - offset) * scale, per feature or broadcast: free."""
    x = computed(ctx, X, "X")
    if offset:
        x = add_weight(ctx, x, np.asarray(offset, dtype=np.float64), "offset", sign=-1)
    if scale:
        x = mul_weight(ctx, x, np.asarray(scale, dtype=np.float64), "scale")
    return x


@onnx_op("Binarizer", ML_DOMAIN)
def Binarizer(ctx: LoweringContext, X: Operand, *, threshold: float = 0.0) -> Result:
    """1 where x > threshold else 0: one comparison (n + 2 constraints) per element."""
    x = computed(ctx, X, "X")
    bits = positive(ctx, x.reshape((-1,)), threshold)
    return bits.reshape(x.shape)


@onnx_op("Imputer", ML_DOMAIN)
def Imputer(
    ctx: LoweringContext,
    X: Operand,
    *,
    imputed_value_floats: Sequence[float] | None = None,
    imputed_value_int64s: Sequence[int] | None = None,
    replaced_value_float: float = math.nan,
    replaced_value_int64: int = 0,
) -> Result:
    """x with every element equal to the replaced value set to its imputed value."""
    x = computed(ctx, X, "X")
    floats = imputed_value_floats is not None and len(imputed_value_floats) > 0
    target = float(replaced_value_float) if floats else float(replaced_value_int64)
    if math.isnan(target):
        return x  # circuit inputs are never NaN (see the module docstring)
    imp = np.asarray(imputed_value_floats if floats else imputed_value_int64s, dtype=np.float64)
    imp_q = np.broadcast_to(quantize(imp, x.scale), (x.shape[-1],))
    r = math.ldexp(target, x.scale)
    if r != math.floor(r):
        return x  # no value at this scale equals the replaced one
    b, out = ctx.builder, []
    for i, v in enumerate(x.values.reshape(-1)):
        c = int(imp_q[i % x.shape[-1]])
        hit = is_equal(b, as_lc(v), int(r))
        out.append(as_lc(v) + b.mul(hit, c - as_lc(v)))
    bound = max(x.bound, *(abs(int(v)) for v in imp_q))
    return QTensor(object_array(out, x.shape), x.scale, bound)


@onnx_op("ArrayFeatureExtractor", ML_DOMAIN)
def ArrayFeatureExtractor(ctx: LoweringContext, X: Operand, Y: Operand) -> Result:
    """The elements of X's last axis at the constant indices Y: free."""
    x = computed(ctx, X, "X")
    idx = ctx.const_input(Y, "Y").astype(np.int64).reshape(-1)
    if idx.size and (idx.min() < -x.shape[-1] or idx.max() >= x.shape[-1]):
        raise ctx.error(f"indices {idx.tolist()} out of range for {x.shape[-1]} features")
    return x.with_values(np.asarray(x.values[..., idx], dtype=object))


@onnx_op("Normalizer", ML_DOMAIN)
def Normalizer(ctx: LoweringContext, X: Operand, *, norm: str = "MAX") -> Result:
    """L1: each row divided by the sum of its absolute values (a row of zeros stays
    zeros, as in onnxruntime). MAX and L2: `ml_normalize`."""
    if norm not in ("L1", "L2", "MAX"):
        raise ctx.error(f"attribute norm = {norm!r} is not one of MAX, L1, L2")
    x = ctx.activation(_rows(ctx, X))
    if norm != "L1":
        return normalize_l2(ctx, x) if norm == "L2" else normalize_max(ctx, x)
    s, b = x.scale, ctx.builder
    n = bits_for_bound(x.bound)
    out: list[Value] = []
    with ctx.gadget("l1"):
        for row in x.values:
            mags = [abs_(b, as_lc(v), n) for v in row]
            total = linear((1, m) for m in mags)
            total = total + is_zero(b, total)  # 1 for a row of zeros: zeros out, as onnxruntime
            t_bits = (len(mags) * x.bound).bit_length()
            # x / total lies in [-1, 1]: divide x + total (in [0, 2 total]) and shift back
            for v in row:
                q = div_round(b, (as_lc(v) + total) * (1 << s), total, t_bits, s + 2)
                out.append(q - (1 << s))
    ctx.record_approximation(
        {"function": "l1_normalize", "max_abs_error": math.ldexp(1.0, -s - 1), "method": "bound"}
    )
    return QTensor(object_array(out, x.shape), s, 1 << s)


@onnx_op("ZipMap", ML_DOMAIN)
def ZipMap(
    ctx: LoweringContext,
    X: Operand,
    *,
    classlabels_int64s: Sequence[int] | None = None,
    classlabels_strings: Sequence[str] | None = None,
) -> Result:
    """The probabilities themselves (see the module docstring)."""
    x = computed(ctx, X, "X")
    labels = list(classlabels_int64s or classlabels_strings or [])
    ctx.record_approximation(
        {"function": "zipmap", "max_abs_error": 0.0, "method": "presentation",
         "note": "the statement carries the probability tensor in class order; the "
                 "{label: probability} maps are formed off-circuit", "labels": labels}
    )  # fmt: skip
    return x
