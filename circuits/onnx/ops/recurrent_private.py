"""A recurrent layer's weights as committed witness values (private-weights mode).

The weights of one direction, W (gates x inputs), R (gates x hidden) and the two bias
halves Wb, Rb, are committed once, as ``W[d]``, ``R[d]``, ``Wb[d]``, ``Rb[d]`` (W and R
transposed, as the circuit multiplies them), and the same wires serve every time step. A
gate's pre-activation x W^T + h R^T + Wb + Rb then costs one product per weight and step
(inputs + hidden per gate unit) instead of nothing; the biases stay free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import add_tensors
from circuits.onnx.ops.linear import matmul_weight
from circuits.onnx.quant import quantize
from circuits.onnx.tensor import QTensor


@dataclass(frozen=True)
class PrivateCell:
    """One direction's committed weights and the products that use them."""

    ctx: LoweringContext
    w: QTensor  # (inputs, gates * hidden)
    r: QTensor  # (hidden, gates * hidden)
    wb: QTensor  # (1, gates * hidden), at activation + weight scale
    rb: QTensor

    def pre(self, x: QTensor, h: QTensor, with_r: bool) -> QTensor:
        """x W^T + Wb (+ h R^T + Rb) for all gates at once."""
        out = add_tensors(self.ctx, matmul_weight(self.ctx, x, self.w), self.wb)
        if with_r:
            rec = add_tensors(self.ctx, matmul_weight(self.ctx, h, self.r), self.rb)
            out = add_tensors(self.ctx, out, rec)
        return out

    def rec(self, h: QTensor, sl: slice) -> QTensor:
        """h R_g^T + Rb_g for the gates in `sl` (GRU's linear_before_reset)."""
        r = QTensor(self.r.values[:, sl], self.r.scale, self.r.bound)
        rb = QTensor(self.rb.values[:, sl], self.rb.scale, self.rb.bound)
        return add_tensors(self.ctx, matmul_weight(self.ctx, h, r), rb)


def private_cell(ctx: LoweringContext, w: Any, r: Any, b: Any, tag: str) -> PrivateCell:
    """Commit one direction's W, R and biases (b = [Wb, Rb], as ONNX stores them)."""
    ws, act = ctx.config.weight_scale, ctx.config.act_scale
    half = b.shape[-1] // 2
    wq = ctx.private_ints(quantize(w.T, ws), ws, f"W{tag}")
    rq = ctx.private_ints(quantize(r.T, ws), ws, f"R{tag}")
    bs = act + ws
    wb = ctx.private_ints(quantize(b[:half].reshape(1, -1), bs), bs, f"Wb{tag}")
    rb = ctx.private_ints(quantize(b[half:].reshape(1, -1), bs), bs, f"Rb{tag}")
    return PrivateCell(ctx, wq, rq, wb, rb)
