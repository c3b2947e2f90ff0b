"""Roots, reciprocals, logarithms, constant powers and division by a computed tensor:
Sqrt, Reciprocal, Log, Pow (constant exponent), Div.

Every result is proved, never trusted (see `circuits.gadgets.division`), and its error is
certified and recorded for the error report. For x at activation scale s (x = X / 2^s),
n the width of the integer operated on, per element:

* Sqrt: y = floor(sqrt(X 2^(s+2))) at scale s + 1: error < 2^-(s+1); about 2.5 n + 4
  constraints (`isqrt`). A negative input has no witness (ONNX gives NaN).
* Reciprocal: round(2^(2s) / X) at scale s, the sign handled by one decomposition:
  error <= 2^-(s+1); about 3 n + q_bits + 10 constraints. X = 0 has no witness.
* Div of two computed tensors: round(A 2^s / B) at A's scale, the same gadget.
* Log: `log_scaled` (range reduction by the top bit, then a certified log1p plan): the
  error recorded is the plan's. X <= 0 has no witness.
* Pow with a constant integer exponent k: square-and-multiply, each product rescaled to
  activation scale (about log2 k products); k < 0 is a Reciprocal of that; k = 1/2 is
  Sqrt and k = -1/2 a Reciprocal of Sqrt. Any other constant exponent (one per element
  allowed) is e^(y ln x) with a certified bound (`pow_frac`).
"""

from __future__ import annotations

import math

import numpy as np

from circuits.gadgets.division import div_any_sign, isqrt
from circuits.gadgets.piecewise import log_scaled
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import Mul, computed
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, object_array


def sqrt_tensor(ctx: LoweringContext, x: QTensor) -> QTensor:
    """sqrt(x) at scale x.scale + 1 (error < one step of that scale), x >= 0."""
    s = x.scale
    shift = s + 2
    n = max(2, (x.bound << shift).bit_length())
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            return math.isqrt(max(v, 0) << shift)
        return isqrt(b, as_lc(v) * (1 << shift), n)

    with ctx.gadget("sqrt"):
        values = x.map(one, scale=s + 1, bound=math.isqrt(x.bound << shift) + 1)
    ctx.record_approximation(
        {"function": "sqrt", "max_abs_error": math.ldexp(1.0, -s - 1), "method": "exact floor",
         "constraints_per_element": (n + 1) // 2 + 2 * n + 6}
    )  # fmt: skip
    return values


def divide(ctx: LoweringContext, a: QTensor, d: QTensor, out_scale: int) -> QTensor:
    """round(a / d) at `out_scale`, elementwise with broadcasting; d of either sign, d = 0
    without witness. The quotient's width is capped at the node's activation width."""
    shift = out_scale - a.scale + d.scale
    if shift < 0:
        raise ctx.error(f"division to scale {out_scale} from scales {a.scale} / {d.scale}")
    b_bits = bits_for_bound(d.bound) + 1
    q_bits = min(bits_for_bound(a.bound << shift), ctx.config.bits_for(ctx.outputs[0]) + 1)
    q_bits = max(q_bits, 2)
    av, dv = np.broadcast_arrays(a.values, d.values)
    b = ctx.builder
    out: list[Value] = []
    with ctx.gadget("divide"):
        for u, v in zip(av.reshape(-1), dv.reshape(-1), strict=True):
            if isinstance(u, int) and isinstance(v, int):
                if v == 0:
                    raise ctx.error("division by a constant zero")
                out.append(round((u << shift) / v))
                continue
            out.append(div_any_sign(b, as_lc(u) * (1 << shift), v, b_bits, q_bits))
    ctx.record_approximation(
        {"function": "divide", "max_abs_error": math.ldexp(1.0, -out_scale - 1),
         "method": "exact rounding", "constraints_per_element": 3 * b_bits + q_bits + 10}
    )  # fmt: skip
    return QTensor(object_array(out, av.shape), out_scale, 1 << (q_bits - 1))


def to_activation(ctx: LoweringContext, t: QTensor) -> QTensor:
    """t at activation scale with a width from its own bound: for an intermediate value
    (a sum of squares, a power) whose magnitude calibration never saw, so the node's
    calibrated output width must not cap it."""
    s = ctx.config.act_scale
    if t.scale <= s:
        return ctx.activation(t)
    k = t.scale - s
    return ctx.rescale(t, s, bits=bits_for_bound(((t.bound + (1 << (k - 1))) >> k) + 1))


@onnx_op("Sqrt")
def Sqrt(ctx: LoweringContext, X: Operand) -> Result:
    return sqrt_tensor(ctx, ctx.activation(computed(ctx, X, "X")))


def reciprocal(ctx: LoweringContext, x: QTensor) -> QTensor:
    s = ctx.config.act_scale
    one = ctx.const(np.ones(x.shape), s)
    return divide(ctx, one, x, s)


@onnx_op("Reciprocal")
def Reciprocal(ctx: LoweringContext, X: Operand) -> Result:
    return reciprocal(ctx, ctx.activation(computed(ctx, X, "X")))


def divide_tensors(ctx: LoweringContext, a: QTensor, d: QTensor) -> QTensor:
    """a / d for two computed tensors, at activation scale."""
    return divide(ctx, ctx.activation(a), ctx.activation(d), ctx.config.act_scale)


@onnx_op("Log")
def Log(ctx: LoweringContext, input: Operand) -> Result:
    x = ctx.activation(computed(ctx, input, "input"))
    s = ctx.config.act_scale
    guard = ctx.config.approx_param("guard_bits", 2)
    b = ctx.builder
    err, bound = 0.0, 0
    out: list[Value] = []
    with ctx.gadget("log"):
        for v in x.flat():
            if isinstance(v, int):
                out.append(round(math.ldexp(math.log(math.ldexp(v, -x.scale)), s)))
                continue
            # x 2^1 at scale s + 1: the range starts at 2, as log_scaled needs
            lg = log_scaled(b, as_lc(v) * 2, x.scale + 1, 2, max(2 * x.bound, 2), s, guard)
            out.append(lg.value)
            err, bound = max(err, lg.error), max(bound, lg.bound)
    ctx.record_approximation({"function": "log", "max_abs_error": err, "method": "certified"})
    return QTensor(object_array(out, x.shape), s, max(bound, 1))


def _int_power(ctx: LoweringContext, x: QTensor, k: int) -> QTensor:
    """x^k for an integer k >= 1 by square-and-multiply at activation scale."""
    result: QTensor | None = None
    base = x
    while k:
        if k & 1:
            result = base if result is None else to_activation(ctx, _mul(ctx, result, base))
        k >>= 1
        if k:
            base = to_activation(ctx, _mul(ctx, base, base))
    assert result is not None
    return result


def _mul(ctx: LoweringContext, a: QTensor, b: QTensor) -> QTensor:
    out = Mul(ctx, a, b)
    assert isinstance(out, QTensor)
    return out


def _special(y: float) -> bool:
    """An exponent computed exactly: an integer up to 64 in magnitude, or +-1/2."""
    return (y == int(y) and abs(y) <= 64) or abs(y) == 0.5


@onnx_op("Pow")
def Pow(ctx: LoweringContext, X: Operand, Y: Operand) -> Result:
    """x^y for constant exponents. Integers up to 64 and +-1/2 are exact (each distinct
    one computed on the whole tensor, the right one picked per element for free, the
    choice being constant); every other exponent goes through `pow_fractional` on just
    the elements that need it."""
    x = computed(ctx, X, "X")
    if isinstance(Y, QTensor) or Y is None:
        raise ctx.unsupported("an exponent computed from the model inputs; only constants")
    y_arr = np.asarray(Y, dtype=np.float64)
    ys = np.unique(y_arr)
    if ys.size == 1 and _special(float(ys[0])):
        return _pow_one(ctx, x, float(ys[0]))
    shape = np.broadcast_shapes(x.shape, y_arr.shape)
    ye = np.broadcast_to(y_arr, shape)
    xb = x.with_values(np.broadcast_to(x.values, shape).copy())
    parts: dict[str, QTensor] = {}
    for v in ys:
        if _special(float(v)):
            p = _pow_one(ctx, xb, float(v))
            parts[repr(float(v))] = p if isinstance(p, QTensor) else ctx.as_qtensor(p)
    frac = [i for i in np.ndindex(*shape) if not _special(float(ye[i]))]
    if frac:
        picked: list[Value] = [xb.values[i] for i in frac]  # type: ignore[misc]
        sub = QTensor(object_array(picked, (len(frac),)), x.scale, x.bound)
        from circuits.onnx.ops.pow_frac import pow_fractional  # it builds on Log here

        fr = pow_fractional(ctx, sub, np.array([ye[i] for i in frac]))
        full = np.zeros(shape, dtype=object)
        for k, i in enumerate(frac):
            full[i] = fr.values[k]
        parts["fractional"] = QTensor(full, fr.scale, fr.bound)
    scale = max(q.scale for q in parts.values())
    ups = {k: ctx.upscale(q, scale) for k, q in parts.items()}
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        key = repr(float(ye[idx])) if _special(float(ye[idx])) else "fractional"
        out[idx] = ups[key].values[idx]
    return QTensor(out, scale, max(q.bound for q in ups.values()))


def _pow_one(ctx: LoweringContext, x: QTensor, y: float) -> QTensor | np.ndarray:
    if y == 0:
        return np.ones(x.shape, dtype=np.float32)
    if abs(y) == 0.5:
        r = sqrt_tensor(ctx, ctx.activation(x))
        return r if y > 0 else reciprocal(ctx, to_activation(ctx, r))
    p = _int_power(ctx, ctx.activation(x), abs(int(y)))
    return p if y > 0 else reciprocal(ctx, to_activation(ctx, p))
