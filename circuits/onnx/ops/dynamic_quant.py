"""DynamicQuantizeLinear: uint8 quantization with a scale and zero point read off the data.

With lo = min(0, min x), hi = max(0, max x) and R = hi - lo (all exact integers at x's own
scale s, so the data's scale 2^-s cancels out of every ratio):

* y_scale = R / 255, output at scale s + 8 (rounded half up; one step is 2^-(s+8));
* y_zero_point = round(-lo 255 / R), which lies in [0, 255] by construction;
* y = saturate(round(x 255 / R) + y_zero_point) into [0, 255].

Both roundings are ties-to-even, as the spec and onnxruntime round, proved by
`division.div_round_even`; lo and hi are `reduce.max_many` (proved maxima, the zero
included). An all-zero input (R = 0) divides by 1 instead (an `is_zero` bit added to R),
giving y = 0, zero point 0 and scale 0 as the spec's formulas do in the limit.
Cost per element: one division (2 b + q + 9 constraints with b the bits of R, q = 10)
and one clamp (2 n + 6); the two maxima add about 2 (n + 1) per element.
"""

from __future__ import annotations

from circuits.gadgets.compare import is_zero
from circuits.gadgets.division import div_round_even
from circuits.gadgets.fixed_point import div_floor_const
from circuits.gadgets.reduce import max_many
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.ops.quantized import saturate
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, object_array

#: Quotients of the two divisions lie in [-255, 255]; 10 signed bits hold them.
_Q_BITS = 10
#: Extra fraction bits of the y_scale output beyond the input's scale.
_SCALE_BITS = 8


def _lc(v: Value) -> LinearCombination:
    return as_lc(v) if not isinstance(v, int) else LinearCombination.constant(v)


def _fold(v: LinearCombination) -> Value:
    return v.constant_value() if v.is_constant() else v


@onnx_op("DynamicQuantizeLinear")
def DynamicQuantizeLinear(ctx: LoweringContext, x: Operand) -> Result:
    t = computed(ctx, x, "x")
    b, n = ctx.builder, bits_for_bound(t.bound)
    flat = [_lc(v) for v in t.values.reshape(-1)]
    with ctx.gadget("data_range"):
        hi = _lc(max_many(b, [*flat, LinearCombination.constant(0)], n))
        lo = -_lc(max_many(b, [*(-v for v in flat), LinearCombination.constant(0)], n))
        span = hi - lo
        divisor = span + is_zero(b, span)
    r_bits = (2 * t.bound).bit_length() + 1
    with ctx.gadget("zero_point"):
        zp = div_round_even(b, -lo * 255, divisor, r_bits, _Q_BITS)
    with ctx.gadget("quotient"):
        qs = [div_round_even(b, v * 255, divisor, r_bits, _Q_BITS) + zp for v in flat]
    q = QTensor(object_array([_fold(v) for v in qs], t.shape), 0, 2 * 255)
    y = saturate(ctx, q, 0, 255)
    with ctx.gadget("scale"):
        k = (2 * t.bound) << _SCALE_BITS
        scale_q = div_floor_const(
            b, span * (1 << _SCALE_BITS) + 127, 255, bits_for_bound(k // 255 + 1)
        )
    y_scale = QTensor(object_array([_fold(scale_q)], ()), t.scale + _SCALE_BITS, k // 255 + 1)
    y_zp = QTensor(object_array([_fold(zp)], ()), 0, 255)
    return y, y_scale, y_zp
