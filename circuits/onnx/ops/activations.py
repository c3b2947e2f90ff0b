"""More activations: Erf, Gelu, Mish, Elu, Selu, HardSwish.

Erf, Gelu (both forms) and Mish evaluate a certified piecewise polynomial like Sigmoid
(`nonlinear.elementwise`; cost and error in the manifest's approximation report). Elu
and Selu use one plan of elu(x) = x for x >= 0, e^x - 1 below, and, for alpha != 1,
alpha elu(x) + (1 - alpha) relu(x) (one more ReLU, n + 2 constraints); Selu scales that
by gamma (free). HardSwish is x HardSigmoid(x): one product and a rescale on top of
HardSigmoid's clip.
"""

from __future__ import annotations

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import Mul, add_tensors, computed, mul_const
from circuits.onnx.ops.nonlinear import HardSigmoid, elementwise
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result


@onnx_op("Erf")
def Erf(ctx: LoweringContext, input: Operand) -> Result:
    return elementwise(ctx, computed(ctx, input, "input"), "erf")


@onnx_op("Gelu")
def Gelu(ctx: LoweringContext, X: Operand, *, approximate: str = "none") -> Result:
    if approximate not in ("none", "tanh"):
        raise ctx.unsupported(f"approximate = {approximate!r}; expected 'none' or 'tanh'")
    func = "gelu" if approximate == "none" else "gelu_tanh"
    return elementwise(ctx, computed(ctx, X, "X"), func)


@onnx_op("Mish")
def Mish(ctx: LoweringContext, X: Operand) -> Result:
    return elementwise(ctx, computed(ctx, X, "X"), "mish")


def _elu(ctx: LoweringContext, x: QTensor, alpha: float) -> QTensor:
    e = elementwise(ctx, x, "elu")
    if alpha == 1.0:
        return e
    pos = ctx.rescale_relu(x, x.scale) if x.scale > ctx.config.act_scale else None
    relu = pos if pos is not None else ctx.rescale_relu(ctx.activation(x), ctx.config.act_scale)
    a = mul_const(ctx, e, np.asarray(alpha))
    r = mul_const(ctx, relu, np.asarray(1.0 - alpha))
    return add_tensors(ctx, a, r)


@onnx_op("Elu")
def Elu(ctx: LoweringContext, X: Operand, *, alpha: float = 1.0) -> Result:
    return _elu(ctx, computed(ctx, X, "X"), alpha)


@onnx_op("Selu")
def Selu(
    ctx: LoweringContext,
    X: Operand,
    *,
    alpha: float = 1.67326319217681884765625,
    gamma: float = 1.05070102214813232421875,
) -> Result:
    return mul_const(ctx, _elu(ctx, computed(ctx, X, "X"), alpha), np.asarray(gamma))


@onnx_op("HardSwish")
def HardSwish(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    gate = HardSigmoid(ctx, x, alpha=1.0 / 6.0, beta=0.5)
    assert isinstance(gate, QTensor)
    return Mul(ctx, ctx.activation(x), gate)
