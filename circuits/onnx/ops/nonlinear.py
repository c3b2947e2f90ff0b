"""Smooth nonlinearities: Sigmoid, Tanh, Softplus, Exp, HardSigmoid, Softmax, LogSoftmax.

Sigmoid, Tanh, Softplus and Exp evaluate a piecewise polynomial (`circuits.approx`) of
the input brought to activation scale; the plan adapts to the input's static bound and
its maximum error is certified and recorded for the error report
(`LoweringContext.record_approximation`). An input finer than activation scale is floored
inside the plan's own decomposition (one bit decomposition per element, not two) and the
plan is fitted at the midpoint of each input step, so the input contributes at most
half a step times max |f'| to the recorded error.

Softmax and LogSoftmax work on rows (the last axis after moving `axis` there, or the 2-D
coercion of opset < 13): a hinted maximum m, proved >= every element by the unsigned
decomposition of m - x_i that the exp plan makes anyway and equal to one of them by a
zero product; e^(x_i - m) at a finer scale; their sum S; then a constrained rounded
division e_i / S per element (Softmax) or x_i - m - ln S (LogSoftmax, with `log_scaled`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from circuits.approx import Plan, lipschitz, make_plan
from circuits.gadgets.piecewise import (
    input_range,
    log_scaled,
    output_bound,
    piecewise,
    piecewise_cost,
)
from circuits.gadgets.reduce import div_round
from circuits.gadgets.select import min_
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import (
    Operand,
    QTensor,
    Result,
    Value,
    ValueArray,
    as_lc,
    map_values,
    object_array,
)


def plan_for(
    ctx: LoweringContext, func: str, in_scale: int, out_scale: int, lo: int, hi: int, midpoint: bool
) -> Plan:
    """The plan of `func` for this node, with the config's approximation settings:
    ``guard_bits`` (default 2), ``<func>.degree`` and ``<func>.segment_bits`` (default:
    searched)."""
    cfg = ctx.config
    return make_plan(
        func, in_scale, out_scale, lo, hi,
        guard=cfg.approx_param("guard_bits", 2),
        degree=cfg.approx_param(f"{func}.degree", -1),
        seg_bits=cfg.approx_param(f"{func}.segment_bits", -1),
        midpoint=midpoint,
    )  # fmt: skip


def magnitude_bits(x: QTensor) -> int:
    """Smallest e >= 0 with |x| <= 2^e in real units (exact integer arithmetic)."""
    return max(0, (x.bound - 1).bit_length() - x.scale)


def _at_act_scale(ctx: LoweringContext, x: QTensor) -> tuple[QTensor, int]:
    """x (upscaled when coarser than activation scale) and the bits it is finer by."""
    s = ctx.config.act_scale
    if x.scale < s:
        x = ctx.upscale(x, s)
    return x, x.scale - s


def _floor_input(v: int, drop: int, midpoint: bool) -> int:
    return (v + (0 if midpoint else (1 << drop) >> 1)) >> drop


def _record(ctx: LoweringContext, plan: Plan, drop: int, total: float, **extra: Any) -> None:
    ctx.record_approximation(
        {**plan.report(), "max_abs_error": total, "approximation_error": plan.max_error,
         "constraints_per_element": piecewise_cost(plan, drop), **extra}
    )  # fmt: skip


def elementwise(ctx: LoweringContext, x: QTensor, func: str) -> QTensor:
    """func(x) at activation scale through a fitted plan (see the module docstring)."""
    x, drop = _at_act_scale(ctx, x)
    s = ctx.config.act_scale
    midpoint = drop > 0
    lo, hi = input_range(x.bound, drop, midpoint)
    plan = plan_for(ctx, func, s, s, lo, hi, midpoint)
    step = (
        lipschitz(func, plan.real(lo), plan.real(hi)) * math.ldexp(1.0, -s - 1) if midpoint else 0.0
    )
    _record(ctx, plan, drop, plan.max_error + step, input_step_error=step)
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            return plan.evaluate(_floor_input(v, drop, midpoint))
        return piecewise(b, plan, v, drop)

    values = map_values(x.values, one)
    return QTensor(values, s, ctx.check_bound(output_bound(plan), "the output"))


@onnx_op("Sigmoid")
def Sigmoid(ctx: LoweringContext, X: Operand) -> Result:
    return elementwise(ctx, computed(ctx, X, "X"), "sigmoid")


@onnx_op("Tanh")
def Tanh(ctx: LoweringContext, input: Operand) -> Result:
    return elementwise(ctx, computed(ctx, input, "input"), "tanh")


@onnx_op("Softplus")
def Softplus(ctx: LoweringContext, X: Operand) -> Result:
    return elementwise(ctx, computed(ctx, X, "X"), "softplus")


@onnx_op("Exp")
def Exp(ctx: LoweringContext, input: Operand) -> Result:
    """e^x over the calibrated range of x (its static bound): inputs so negative that e^x
    rounds to 0 saturate. The largest output, e^(bound), must fit the accumulator width:
    an input range too wide for that is refused here, naming the node."""
    x = computed(ctx, input, "input")
    top = math.ldexp(x.bound, -x.scale)
    limit = ctx.config.acc_bits - ctx.config.act_scale - 8
    if top * math.log2(math.e) > limit:
        raise ctx.error(
            f"the input may reach {top:g}, so e^x may reach 2^{top * math.log2(math.e):.0f}, "
            f"beyond the {ctx.config.acc_bits}-bit accumulator; calibrate the model on "
            "representative inputs or clip the input of Exp"
        )
    return elementwise(ctx, x, "exp")


@onnx_op("HardSigmoid")
def HardSigmoid(
    ctx: LoweringContext, X: Operand, *, alpha: float = 0.2, beta: float = 0.5
) -> Result:
    """max(0, min(1, alpha x + beta)): a free linear map, a rounding fused with the lower
    clip (`rescale_relu`), and `min_` against 1. alpha is quantized finely enough that
    its rounding moves no output by more than a quarter step."""
    x = computed(ctx, X, "X")
    s = ctx.config.act_scale
    real_bound = math.ldexp(x.bound, -x.scale)
    ka = s + 1 + magnitude_bits(x)
    scale = x.scale + ka
    aq, bq = round(math.ldexp(alpha, ka)), round(math.ldexp(beta, scale))
    y = QTensor(
        map_values(x.values, lambda v: v * aq + bq),
        scale,
        ctx.check_bound(abs(aq) * x.bound + abs(bq)),
    )
    z = ctx.rescale_relu(y, s, bits=bits_for_bound((y.bound >> (scale - s)) + 1))
    one, b = 1 << s, ctx.builder
    n = max(bits_for_bound(z.bound), bits_for_bound(one))
    values = z.values
    if z.bound > one:
        with ctx.gadget("clip_high"):
            values = map_values(
                values, lambda v: min(v, one) if isinstance(v, int) else min_(b, v, one, n)
            )
    err = (
        math.ldexp(1.0, -s - 1)
        + abs(alpha - math.ldexp(aq, -ka)) * real_bound
        + math.ldexp(1.0, -scale - 1)
    )
    ctx.record_approximation({"function": "hardsigmoid", "max_abs_error": err, "method": "bound"})
    return QTensor(values, s, one)


# softmax ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    """The input as rows of the reduced axis, and how to put results back in shape."""

    rows: ValueArray
    restore: Callable[[ValueArray], ValueArray]


def _rows(ctx: LoweringContext, x: QTensor, axis: int | None) -> _Rows:
    coerce = ctx.opset < 13
    ax = (1 if coerce else -1) if axis is None else axis
    if not -x.ndim <= ax < max(x.ndim, 1):
        raise ctx.error(f"axis {ax} is out of range for rank {x.ndim}")
    ax %= max(x.ndim, 1)
    if coerce:
        shape = x.shape
        lead = int(np.prod(shape[:ax], dtype=np.int64))
        return _Rows(x.values.reshape(lead, -1), lambda v: v.reshape(shape))
    moved = np.moveaxis(x.values, ax, -1)
    mshape = moved.shape
    return _Rows(moved.reshape(-1, mshape[-1]), lambda v: np.moveaxis(v.reshape(mshape), -1, ax))


@dataclass(frozen=True)
class _Exps:
    diffs: list[list[LinearCombination]]  # m - x_i per row, at the input scale
    exps: list[list[LinearCombination]]  # e^(x_i - m) per row, at exp_scale
    plan: Plan
    drop: int
    rho: float  # relative error of e from flooring the input to the plan's scale


def _exp_rows(ctx: LoweringContext, x: QTensor, rows: ValueArray, exp_scale: int) -> _Exps:
    s, b = ctx.config.act_scale, ctx.builder
    drop = x.scale - s
    plan = plan_for(ctx, "expneg", s, exp_scale, 0, (2 * x.bound) >> drop, drop > 0)
    # piecewise's unsigned decomposition of m - x_i proves m >= x_i only when the domain
    # starts at 0 with no tail below it; expneg has no lower tail, so this always holds.
    assert plan.lo == 0 and plan.below is None, plan.report()
    # The rounded polynomial may dip to -1 near e^-x = 0 at fine scales: the row sum and
    # every division stay valid while the sum exceeds 2^(s+1) times that dip (checked).
    n = rows.shape[-1]
    floor_sum = plan.evaluate(0) + (n - 1) * min(plan.y_min, 0)
    if floor_sum <= -min(plan.y_min, 0) << (s + 1):
        raise ctx.error(
            f"the exp approximation of a row of {n} values dips to {plan.y_min} at scale "
            f"2^-{exp_scale}; raise the approximation's guard_bits"
        )
    diffs, exps = [], []
    for row in rows:
        xs = [as_lc(v) for v in row]
        with ctx.gadget("row"):
            (m,) = b.hint("max_of", xs, 1) if len(xs) > 1 else (xs[0],)
            d = [m - v for v in xs]
            prod = d[0]
            for v in d[1:-1]:
                prod = b.mul(prod, v)
            if len(d) > 1:
                b.assert_mul(prod, d[-1], 0)
            # m >= x_i is proved by the unsigned decomposition inside `piecewise` below
            exps.append([piecewise(b, plan, v, drop) for v in d])
        diffs.append(d)
    rho = math.expm1(math.ldexp(1.0, -s - 1)) if drop else 0.0
    return _Exps(diffs, exps, plan, drop, rho)


def _exp_scale(ctx: LoweringContext, n: int) -> int:
    return ctx.config.act_scale + ctx.config.approx_param("guard_bits", 2) + (n + 1).bit_length()


@onnx_op("Softmax")
def Softmax(ctx: LoweringContext, input: Operand, *, axis: int | None = None) -> Result:
    x, _ = _at_act_scale(ctx, computed(ctx, input, "input"))
    r = _rows(ctx, x, axis)
    n, s = r.rows.shape[-1], ctx.config.act_scale
    if n == 1:
        return QTensor(r.restore(np.full(r.rows.shape, 1 << s, dtype=object)), s, 1 << s)
    e = _exp_rows(ctx, x, r.rows, _exp_scale(ctx, n))
    s_max = n * e.plan.y_max
    b = ctx.builder
    out: list[Value] = []
    with ctx.gadget("normalize"):
        for row in e.exps:
            total = sum(row, LinearCombination({}))
            out += [div_round(b, v * (1 << s), total, s_max.bit_length(), s + 1) for v in row]
    delta = e.plan.max_error
    err = (
        2 * e.rho / (1 - e.rho)
        + (n + 1) * delta / (1 - e.rho - n * delta)
        + math.ldexp(1.0, -s - 1)
    )
    _record(ctx, e.plan, e.drop, err, row_length=n, division_rounding=math.ldexp(1.0, -s - 1))
    return QTensor(r.restore(object_array(out, r.rows.shape)), s, 1 << s)


@onnx_op("LogSoftmax")
def LogSoftmax(ctx: LoweringContext, input: Operand, *, axis: int | None = None) -> Result:
    """x_i - m - ln S, at the input's scale (the subtraction is free; ln S is computed once
    per row at activation scale and shifted up)."""
    x, drop = _at_act_scale(ctx, computed(ctx, input, "input"))
    r = _rows(ctx, x, axis)
    n, s = r.rows.shape[-1], ctx.config.act_scale
    if n == 1:
        return QTensor(r.restore(np.zeros(r.rows.shape, dtype=object)), x.scale, 0)
    e = _exp_rows(ctx, x, r.rows, _exp_scale(ctx, n))
    p = e.plan
    s_min, s_max = p.evaluate(0) + (n - 1) * p.y_min, n * p.y_max
    guard, b = ctx.config.approx_param("guard_bits", 2), ctx.builder
    out: list[Value] = []
    log_err, log_bound = 0.0, 0
    with ctx.gadget("log_sum"):
        for diffs, row in zip(e.diffs, e.exps, strict=True):
            lg = log_scaled(b, sum(row, LinearCombination({})), p.out_scale, s_min, s_max, s, guard)
            log_err, log_bound = lg.error, lg.bound
            out += [-(dv + lg.value * (1 << drop)) for dv in diffs]
    delta = p.max_error
    err = e.rho / (1 - e.rho) + n * delta / (1 - e.rho - n * delta) + log_err
    _record(ctx, p, e.drop, err, row_length=n, log_error=log_err)
    bound = ctx.check_bound(2 * x.bound + (log_bound << drop), "the output")
    return QTensor(r.restore(object_array(out, r.rows.shape)), x.scale, bound)
