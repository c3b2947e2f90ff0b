"""LayerNormalization and InstanceNormalization.

Per row of n values x_i (at activation scale s), with S = sum x_i:

    d_i = n x_i - S = n (x_i - mean)                      free
    E   = sum d_i^2 + q(eps) n^3 2^(2s)                   n products
    Rt  = floor(sqrt(E 2^(2g)))                           one `isqrt`
    y_i = round(d_i c 2^(s + g - w) / Rt),  c = round(sqrt(n) 2^w)   one division each

since (x_i - mean) / sqrt(var + eps) = d_i sqrt(n) / sqrt(E) exactly (var = sum d^2 / n^3).
Then y_i scale_i + bias_i (constants: free; computed: one product each).

Error, for the quantized input: the division rounds by at most half a step; sqrt(n)'s
quantization and Rt's floor move y by at most |y| (2^-w / sqrt(n) + 1 / Rt) with
|y| <= sqrt(n) and Rt >= sqrt(E_min) 2^g; the guard g is chosen so that term stays under a
quarter step. Both are recorded. A row of identical values gives E = q(eps) n^3 2^(2s),
never 0 (q(eps) is at least 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from circuits.gadgets.division import div_signed, isqrt
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import Add, Mul, computed
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, linear, object_array


@dataclass(frozen=True)
class Normalized:
    """Per row: the normalized values, the mean (at scale s + weight_scale) and
    1 / sqrt(var + eps) (at activation scale), the last two built only when asked."""

    values: np.ndarray
    means: list[Value]
    inv_std: list[Value]
    inv_bound: int


def normalize_rows(
    ctx: LoweringContext, rows: np.ndarray, x: QTensor, eps: float, *, stats: bool = False
) -> Normalized:
    """(x - mean) / sqrt(var + eps) per row of `rows` (values of x, at activation scale).
    With `stats`, also each row's mean (free) and 1 / sqrt(var + eps): one more division
    per row, round(n^1.5 2^(s + g + s) / Rt)."""
    n = rows.shape[1]
    s, w = x.scale, ctx.config.weight_scale
    eps_q = max(1, round(eps * n**3 * 4.0**s))
    d_bound = 2 * n * x.bound
    e_min, e_max = eps_q, n * d_bound * d_bound + eps_q
    # guard bits: sqrt(n) / Rt_min <= 2^-(s + 2)
    g = max(0, math.ceil(math.log2(math.sqrt(n) * 2 ** (s + 2) / math.sqrt(e_min))))
    c = round(math.sqrt(n) * 2**w)
    shift = s + g - w
    num_scale = max(0, -shift)
    r_bits = bits_for_bound(math.isqrt(e_max << (2 * g)) + 1)
    q_bits = bits_for_bound(2 * math.isqrt(n) + 2 << s) + 1
    b = ctx.builder
    out = np.empty(rows.shape, dtype=object)
    means: list[Value] = []
    inv: list[Value] = []
    c3 = round(n**1.5 * 2**w)
    inv_bound = (math.ceil(1 / math.sqrt(eps)) + 1) << s
    inv_bits = bits_for_bound(inv_bound) + 1
    for r, row in enumerate(rows):
        total = linear((1, v) for v in row)
        d = [linear([(n, v), (-1, total)]) for v in row]
        sq = [v * v if isinstance(v, int) else b.mul(v, v) for v in d]
        energy = linear(((1, v) for v in sq), eps_q)
        root = isqrt(b, as_lc(energy) * (1 << (2 * g)), max(2, (e_max << (2 * g)).bit_length()))
        for i, v in enumerate(d):
            num = as_lc(v) * (c << max(shift, 0))
            den = root * (1 << num_scale)
            out[r, i] = div_signed(b, num, den, r_bits + num_scale, q_bits)
        if stats:
            means.append(as_lc(total) * round(2**w / n))
            inv.append(div_signed(b, c3 << (s + max(shift, 0)), den, r_bits + num_scale, inv_bits))
    err = math.ldexp(1.0, -s - 1) + math.sqrt(n) * (
        math.ldexp(1.0, -w) / math.sqrt(n) + 1 / (math.sqrt(e_min) * 2**g)
    )
    ctx.record_approximation(
        {"function": "normalize", "max_abs_error": err, "method": "exact rounding",
         "row_length": n, "constraints_per_element": 2 * r_bits + q_bits + 8}
    )  # fmt: skip
    return Normalized(out, means, inv, inv_bound)


def _affine(ctx: LoweringContext, y: QTensor, scale: Operand, bias: Operand) -> QTensor:
    if scale is not None:
        y = _as_q(Mul(ctx, y, scale))
    if bias is not None:
        y = _as_q(Add(ctx, y, bias))
    return y


def _as_q(r: Result) -> QTensor:
    assert isinstance(r, QTensor)
    return r


@onnx_op("LayerNormalization")
def LayerNormalization(
    ctx: LoweringContext,
    X: Operand,
    Scale: Operand,
    B: Operand = None,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    stash_type: int = 1,
) -> Result:
    x = ctx.activation(computed(ctx, X, "X"))
    ax = axis % max(x.ndim, 1)
    lead = x.shape[:ax]
    rows = x.values.reshape(int(np.prod(lead, dtype=np.int64)), -1)
    stats = len(ctx.outputs) > 1
    with ctx.gadget("normalize"):
        res = normalize_rows(ctx, rows, x, epsilon, stats=stats)
    y = QTensor(
        res.values.reshape(x.shape), x.scale, (2 * math.isqrt(rows.shape[1]) + 2) << x.scale
    )
    out = _affine(ctx, y, Scale, B)
    if not stats:
        return out
    kept = (*lead, *([1] * (x.ndim - ax)))
    ws = ctx.config.weight_scale
    n = rows.shape[1]
    mean = QTensor(object_array(res.means, kept), x.scale + ws, x.bound * ((1 << ws) + n))
    inv = QTensor(object_array(res.inv_std, kept), x.scale, res.inv_bound)
    return out, mean, inv


@onnx_op("InstanceNormalization")
def InstanceNormalization(
    ctx: LoweringContext, input: Operand, scale: Operand, B: Operand, *, epsilon: float = 1e-5
) -> Result:
    x = ctx.activation(computed(ctx, input, "input"))
    n, c = x.shape[0], x.shape[1]
    rows = x.values.reshape(n * c, -1)
    with ctx.gadget("normalize"):
        res = normalize_rows(ctx, rows, x, epsilon)
    y = QTensor(
        res.values.reshape(x.shape), x.scale, (2 * math.isqrt(rows.shape[1]) + 2) << x.scale
    )
    per_channel = [1, c] + [1] * (x.ndim - 2)

    def channel(v: Operand) -> Operand:
        if isinstance(v, QTensor):
            return v.reshape(per_channel)
        return None if v is None else np.asarray(v).reshape(per_channel)

    return _affine(ctx, y, channel(scale), channel(B))
