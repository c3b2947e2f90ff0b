"""The ONNX-ML post transforms beyond LOGISTIC and SOFTMAX: SOFTMAX_ZERO and PROBIT.

* SOFTMAX_ZERO (onnxruntime's `ComputeSoftmaxZero`): a score of exactly zero stays zero
  and the others are a softmax among themselves. A fixed-point score is zero when its
  integer is 0, i.e. when the real score is within half a quantization step of 0
  (onnxruntime's test is |v| <= 1e-7). A row of zeros gives zeros (onnxruntime: NaN, 0/0).
  Per row: `is_zero` per element, a hinted maximum m over the nonzero elements, proved
  >= each of them by the unsigned decomposition of the exp plan (a zero element's
  difference is masked to 0) and equal to one of them by a zero product (waived when the
  whole row is zero); e^(x_i - m) masked by the zero bits; a constrained rounded division
  by their sum (plus 1 for an all-zero row, so the divisor is never 0). The error bound is
  Softmax's for the row length.
* PROBIT: sqrt(2) erfinv(2p - 1), the inverse of the standard normal CDF, per score, by
  the `circuits.gadgets.probit` gadget (a hinted y checked against a certified Phi). The
  certified bound is against the exact function; onnxruntime evaluates an approximation of
  erfinv of its own (Winitzki's formula, off by up to 7.3e-3 on the 2^-16 grid), which the
  manifest names. A score outside (0, 1) has no probit (onnxruntime: +-inf or NaN): no
  proof exists for it.
"""

from __future__ import annotations

import math

import numpy as np

from circuits.field import R, from_field
from circuits.gadgets.compare import is_zero
from circuits.gadgets.piecewise import piecewise, piecewise_cost
from circuits.gadgets.probit import probit, probit_plan, probit_search_hint
from circuits.gadgets.reduce import div_round
from circuits.hints import register_hint
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.nonlinear import plan_for
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.tensor import QTensor, Value, as_lc, map_values, object_array

#: onnxruntime's own probit is an approximation; its largest deviation from the exact
#: function over p = k / 2^16 (measured with onnxruntime 1.32).
ORT_PROBIT_DEVIATION = 7.3e-3


@register_hint("max_nonzero")
def max_nonzero_hint(*xs: int) -> list[int]:
    """The largest of the nonzero inputs (signed), or 0 when all are zero."""
    vals = [from_field(x) for x in xs if x % R]
    return [max(vals) % R if vals else 0]


def softmax_zero(ctx: LoweringContext, x: QTensor) -> QTensor:
    """SOFTMAX_ZERO over the rows of x (shape (N, C)), at activation scale."""
    s, b = ctx.config.act_scale, ctx.builder
    if x.scale < s:
        x = ctx.upscale(x, s)
    drop, n = x.scale - s, x.shape[-1]
    exp_scale = s + ctx.config.approx_param("guard_bits", 2) + (n + 1).bit_length()
    plan = plan_for(ctx, "expneg", s, exp_scale, 0, (2 * x.bound) >> drop, drop > 0)
    assert plan.lo == 0 and plan.below is None, plan.report()
    s_max = n * plan.y_max + 1
    out: list[Value] = []
    with ctx.gadget("softmax_zero"):
        for row in x.values.reshape(-1, n):
            xs = [as_lc(v) for v in row]
            zero = [is_zero(b, v) for v in xs]
            (m,) = b.hint("max_nonzero", xs, 1)
            diffs = [m - v - b.mul(z, m) for v, z in zip(xs, zero, strict=True)]
            all_zero = zero[0]
            for z in zero[1:]:
                all_zero = b.mul(all_zero, z)
            prod = diffs[0] + zero[0]
            for d, z in zip(diffs[1:], zero[1:], strict=True):
                prod = b.mul(prod, d + z)
            b.assert_mul(prod, 1 - all_zero, 0)  # m is one of the nonzero elements
            exps = [piecewise(b, plan, d, drop) for d in diffs]
            kept = [e - b.mul(z, e) for e, z in zip(exps, zero, strict=True)]
            total = sum(kept, LinearCombination({})) + all_zero
            out += [div_round(b, e * (1 << s), total, s_max.bit_length(), s + 1) for e in kept]
    div = 1 + 2 * (s_max.bit_length() + 2) + s + 2
    per_row = n * (4 + piecewise_cost(plan, drop) + div) + 2 * (n - 1) + 1
    rho = math.expm1(math.ldexp(1.0, -s - 1)) if drop else 0.0
    delta = plan.max_error
    err = 2 * rho / (1 - rho) + (n + 1) * delta / (1 - rho - n * delta) + math.ldexp(1.0, -s - 1)
    ctx.record_approximation(
        {**plan.report(), "function": "softmax_zero", "max_abs_error": err,
         "approximation_error": delta, "row_length": n,
         "constraints_per_element": per_row / n,
         "zero": "a score whose fixed-point integer is 0 (|score| < half a step) counts as 0"}
    )  # fmt: skip
    return QTensor(object_array(out, x.shape), s, 1 << s)


#: PROBIT's input is rounded to activation scale + this: probit's slope near the ends
#: makes the Phi plan's output finer than the input by `EXTRA_BITS`, which a polynomial
#: reaches only up to about 2^-30.
PROBIT_INPUT_BITS = 4
#: The bound grows like 1 / phi(probit(p)) toward p = 0 and 1: the manifest also gives it
#: for p kept away from the ends by these margins.
PROBIT_REPORT_EDGES = (1e-6, 1e-4, 1e-2)


def probit_scores(ctx: LoweringContext, x: QTensor) -> QTensor:
    """PROBIT per element of x, at activation scale (see the module docstring)."""
    s = ctx.config.act_scale
    ps = s + PROBIT_INPUT_BITS
    rounding = 0.0
    if x.scale < ps:
        x = ctx.upscale(x, ps)
    elif x.scale > ps:
        k = x.scale - ps
        x = ctx.rescale(x, ps, bits=bits_for_bound((x.bound >> k) + 1) + 1)
        rounding = math.ldexp(1.0, -ps - 1)
    guard = ctx.config.approx_param("guard_bits", 2)
    pp = probit_plan(x.scale, s, guard)
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            y = probit_search_hint(v % R, p_scale=x.scale, out_scale=s, guard=guard)[0]
            return from_field(y)
        return probit(b, pp, v, guard)

    values = map_values(x.values, one)
    ctx.record_approximation(
        {**pp.cdf.report(), "function": "probit", "max_abs_error": pp.error_for(rounding),
         "input_rounding": rounding,
         "max_abs_error_for_p_in": {f"[{a:g}, 1 - {a:g}]": pp.error_for(rounding, a)
                                    for a in PROBIT_REPORT_EDGES},
         "method": "hinted inverse checked against a certified normal CDF",
         "cdf_error": pp.cdf.max_error, "constraints_per_element": pp.cost(),
         "onnxruntime": f"approximates erfinv (Winitzki); off by up to {ORT_PROBIT_DEVIATION}"}
    )  # fmt: skip
    return QTensor(np.asarray(values, dtype=object), s, pp.limit)
