"""x^y for constant exponents that are neither integers nor +-1/2: e^(y ln x).

The natural log is `powers.Log` (a certified plan, error e_l), the product by the constant
y is free (y quantized at the weight scale, error e_y per exponent), and e^t is
`nonlinear.Exp` (a certified plan whose recorded error e_e already counts the rounding of
its finer input). With t's largest value T, the exponent is off by at most
d = |y| e_l + |ln x| e_y, so the output is off by at most e^T (e^d - 1) + e_e, which is
recorded for the error report as the certified bound of the composition. T comes from
the static range of x, whose smallest positive value is one step: for y < 0 that makes
the absolute bound large (x^y is large there), so the relative part e^d - 1 is recorded
too.

x = 0 with y > 0 gives 0 (an `is_zero` bit z: the log reads x + z and the result is
multiplied by 1 - z, 3 constraints); x = 0 with y < 0 (infinity) and x < 0 (NaN in ONNX)
have no witness: the log's domain check fails inside the node.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from circuits.gadgets.compare import is_zero
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import mul_const
from circuits.onnx.ops.nonlinear import Exp
from circuits.onnx.quant import quantize
from circuits.onnx.tensor import QTensor, Value, as_lc, object_array


def _zeros_lifted(ctx: LoweringContext, x: QTensor, y: np.ndarray) -> tuple[QTensor, list[Value]]:
    """x with each zero at a y > 0 position raised to 1 (scaled), and the zero bits z."""
    b, one = ctx.builder, 1 << x.scale
    lifted: list[Value] = []
    bits: list[Value] = []
    for v, e in zip(x.values.reshape(-1), y.reshape(-1), strict=True):
        if e <= 0 or isinstance(v, int):
            z: Value = 1 if (isinstance(v, int) and v == 0 and e > 0) else 0
        else:
            z = is_zero(b, as_lc(v))
        bits.append(z)
        lifted.append(v + z * one if isinstance(z, int) else as_lc(v) + z * one)
    t = QTensor(object_array(lifted, x.shape), x.scale, x.bound + one)
    return t, bits


#: Extra fraction bits the log and exp of the composition run at: e^t magnifies the
#: exponent's absolute error into a relative one, so a coarse activation scale (chosen for
#: large outputs) would cost more than a step of the output.
EXTRA_BITS = 8


@contextmanager
def _finer(ctx: LoweringContext, extra: int) -> Iterator[None]:
    """The node's activation scale and widths raised by `extra` bits for a while."""
    cfg = ctx.state.config
    bits = dict(cfg.tensor_bits)
    for name in ctx.outputs:
        if name in bits:
            bits[name] += extra
    ctx.state.config = cfg.replace(
        act_scale=cfg.act_scale + extra, act_bits=cfg.act_bits + extra, tensor_bits=bits
    )
    try:
        yield
    finally:
        ctx.state.config = cfg


def pow_fractional(ctx: LoweringContext, x: QTensor, y: np.ndarray) -> QTensor:
    """x^y elementwise for a 1-D x and constant exponents y of the same shape."""
    from circuits.onnx.ops.powers import Log  # powers dispatches here

    with ctx.gadget("pow_zero"):
        lifted, zeros = _zeros_lifted(ctx, x, y)
    with _finer(ctx, EXTRA_BITS):
        lg = Log(ctx, lifted)
        assert isinstance(lg, QTensor)
        e_l = float(ctx.state.approximations[-1]["max_abs_error"])
        t = mul_const(ctx, lg, y)
        s_y = t.scale - lg.scale
        e_y = float(np.max(np.abs(y - quantize(y, s_y).astype(np.float64) / 2.0**s_y)))
        ex = Exp(ctx, t)
        assert isinstance(ex, QTensor)
        e_e = float(ctx.state.approximations[-1]["max_abs_error"])
    top_t = math.ldexp(t.bound, -t.scale)
    ln_max = math.ldexp(lg.bound, -lg.scale)
    d = float(np.max(np.abs(y))) * e_l + ln_max * e_y
    bound = math.exp(top_t) * math.expm1(d) + e_e
    b = ctx.builder
    out: list[Value] = []
    with ctx.gadget("pow_zero"):
        for v, z in zip(ex.values.reshape(-1), zeros, strict=True):
            if isinstance(z, int):
                out.append(0 if z else v)
            else:
                out.append(v - b.mul(z, as_lc(v)) if not isinstance(v, int) else v - z * v)
    ctx.record_approximation(
        {"function": "pow", "method": "certified: exp(y log x)", "max_abs_error": bound,
         "exponent_error": d, "max_rel_error_from_exponent": math.expm1(d),
         "exponents": sorted({float(e) for e in y.reshape(-1)})[:8]}
    )  # fmt: skip
    return QTensor(object_array(out, x.shape), ex.scale, ex.bound)
