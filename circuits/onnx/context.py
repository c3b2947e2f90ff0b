"""`LoweringContext`: what a lowering knows about its node, and the helpers it builds with.

A context is created by the graph walker for each node. It carries the `Builder`, the
`QuantConfig`, the node's identity (op type, name, opset, output names: used in every
error) and a cache shared by all nodes so that a tensor is rescaled at most once however
many consumers need it at activation scale.

Helpers and their cost:

* `quantize_const` / `const` / `as_qtensor`: free (constants are plain ints).
* `upscale`: free (multiplication by 2^d).
* `rescale` / `rescale_relu`: round to nearest, then `fixed_point.rescale[_relu]`, which
  costs k + q_bits + 2 constraints per element (k = bits dropped, q_bits = output width).
* `activation`: a rescale to ``config.act_scale`` when the tensor is finer, cached.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from circuits.builder import Builder
from circuits.errors import LoweringError, QuantOverflowError, UnsupportedOpError
from circuits.gadgets import fixed_point
from circuits.onnx.quant import QuantConfig, bits_for_bound, quantize, signed_limit
from circuits.onnx.tensor import (
    Const,
    Operand,
    QTensor,
    Value,
    ValueArray,
    map_values,
    object_array,
)


@dataclass
class SharedState:
    """State shared by the contexts of one compilation."""

    builder: Builder
    config: QuantConfig
    #: id(source tensor) -> (source, its activation-scale version); the source is kept
    #: alive so its id cannot be reused.
    activations: dict[int, tuple[QTensor, QTensor]] = field(default_factory=dict)
    #: Certified error bounds of the approximations the nodes made (JSON-ready, one per
    #: approximated function and node), for the manifest's error report.
    approximations: list[dict[str, Any]] = field(default_factory=list)
    #: The graph's tensors by name as the walk goes (what a Loop or Scan body may read
    #: from the enclosing graph).
    scope: dict[str, Any] = field(default_factory=dict)
    #: The weight tensors made witness values, in the order they were met (private-weights
    #: mode); None when the weights are public constants of the circuit.
    private_weights: list[PrivateTensor] | None = None


@dataclass(frozen=True, eq=False)
class PrivateTensor:
    """A weight tensor held in witness wires: its quantized values (known to the compiler,
    which has the model) and the signed width every wire is range-checked to."""

    name: str
    shape: tuple[int, ...]
    scale: int
    bits: int
    values: tuple[int, ...]
    wires: tuple[Value, ...]
    #: True when the lowering proves the wires' range itself (the commitment then does not)
    checked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "scale": self.scale,
            "bits": self.bits,
        }


@dataclass(eq=False)
class LoweringContext:
    """Per-node view of a compilation. See the module docstring for the helpers' costs."""

    state: SharedState
    op_type: str
    node: str
    opset: int
    outputs: tuple[str, ...] = ()

    @property
    def builder(self) -> Builder:
        return self.state.builder

    @property
    def config(self) -> QuantConfig:
        return self.state.config

    # errors ----------------------------------------------------------------------------
    def error(self, what: str) -> LoweringError:
        """An error naming this node, to raise: ``raise ctx.error("...")``."""
        return LoweringError(self.op_type, self.node, self.opset, what)

    def unsupported(self, detail: str) -> UnsupportedOpError:
        """An unsupported-feature error (e.g. an attribute value) naming this node."""
        return UnsupportedOpError(self.op_type, self.node, self.opset, detail)

    def check_bound(self, bound: int, what: str = "a value") -> int:
        """`bound`, or `QuantOverflowError` when it exceeds ``config.acc_bits``."""
        limit = signed_limit(self.config.acc_bits)
        if bound > limit:
            raise QuantOverflowError(
                self.node,
                f"{what} of {self.op_type} can reach 2^{bound.bit_length()}, beyond the "
                f"accumulator width of {self.config.acc_bits} bits; lower the scales or widths",
            )
        return bound

    def record_approximation(self, report: Mapping[str, Any]) -> None:
        """Keep the certified error of an approximation made by this node (JSON-ready)."""
        self.state.approximations.append({"node": self.node, "op_type": self.op_type, **report})

    @contextmanager
    def gadget(self, name: str) -> Iterator[None]:
        """Label the constraints emitted inside (nested under the node's own label)."""
        with self.builder.gadget(name):
            yield

    # constants -------------------------------------------------------------------------
    def const_input(self, x: Operand, what: str) -> Const:
        """`x` as a constant array, or an error saying the input must be constant."""
        if x is None or isinstance(x, QTensor):
            got = "missing" if x is None else "computed from the model inputs"
            raise self.error(f"input {what!r} must be a constant, but it is {got}")
        return np.asarray(x)

    def quantize_const(self, arr: npt.ArrayLike, scale: int | None = None) -> ValueArray:
        """round(arr * 2^scale) as Python ints (default scale: ``config.weight_scale``)."""
        return quantize(arr, self.config.weight_scale if scale is None else scale)

    def const(self, arr: npt.ArrayLike, scale: int | None = None) -> QTensor:
        """A constant as a `QTensor` of ints (default scale: ``config.weight_scale``)."""
        s = self.config.weight_scale if scale is None else scale
        q = quantize(arr, s)
        bound = max((abs(int(v)) for v in q.reshape(-1)), default=0)
        return QTensor(q, s, bound)

    def as_qtensor(self, x: QTensor | Const, scale: int | None = None) -> QTensor:
        """A `QTensor` unchanged, or a constant quantized (default: ``config.act_scale``)."""
        if isinstance(x, QTensor):
            return x
        return self.const(x, self.config.act_scale if scale is None else scale)

    def weight(self, arr: npt.ArrayLike, scale: int, slot: str) -> QTensor | None:
        """In private-weights mode, the constant `arr` quantized at `scale` as witness wires
        named ``w:<node>.<slot>``, each range-checked to the width its largest value needs
        (bits + 1 constraints per weight, counted with the weights commitment); its bound is
        that width's, whatever values a prover puts there. None when weights are public."""
        if self.state.private_weights is None:
            return None
        return self.private_ints(quantize(arr, scale), scale, slot)

    @property
    def private_mode(self) -> bool:
        """True when the model's constants are committed witness values (private weights)."""
        return self.state.private_weights is not None

    def private_ints(
        self,
        q: npt.ArrayLike,
        scale: int,
        slot: str,
        bits: int | None = None,
        *,
        checked: bool = False,
    ) -> QTensor:
        """Already quantized ints `q` as committed witness wires ``w:<node>.<slot>`` (see
        `weight`), range-checked to `bits` (default: the width their largest value needs)
        by the commitment, unless `checked`: the caller proves that range itself (e.g. a
        sortedness proof within it). Only in private-weights mode."""
        private = self.state.private_weights
        if private is None:
            raise self.error("a private weight outside private-weights mode")
        arr = np.asarray(q, dtype=object)
        flat = tuple(int(v) for v in arr.reshape(-1))
        need = bits_for_bound(max((abs(v) for v in flat), default=0))
        bits = need if bits is None else bits
        if bits < need:
            raise self.error(f"weight {slot!r} needs {need} bits, {bits} were asked")
        name = f"{self.node}.{slot}"
        taken = {t.name for t in private}
        k = 2
        while name in taken:  # e.g. Sum of several constants: one tensor each
            name, k = f"{self.node}.{slot}#{k}", k + 1
        wires = tuple(self.builder.private_inputs(f"w:{name}", len(flat)))
        private.append(PrivateTensor(name, tuple(arr.shape), scale, bits, flat, wires, checked))
        return QTensor(object_array(list(wires), tuple(arr.shape)), scale, 1 << (bits - 1))

    # scales ----------------------------------------------------------------------------
    def upscale(self, t: QTensor, to_scale: int) -> QTensor:
        """t at a finer scale: every element times 2^(to_scale - t.scale). Free."""
        d = to_scale - t.scale
        if d < 0:
            raise self.error(f"upscale from scale {t.scale} to the coarser {to_scale}")
        if d == 0:
            return t
        m = 1 << d
        bound = self.check_bound(t.bound * m, "an upscaled value")
        return QTensor(map_values(t.values, lambda v: v * m), to_scale, bound)

    def align(self, a: QTensor, b: QTensor) -> tuple[QTensor, QTensor]:
        """a and b at the finer of their two scales (free)."""
        s = max(a.scale, b.scale)
        return self.upscale(a, s), self.upscale(b, s)

    def rescale(self, t: QTensor, to_scale: int, *, bits: int | None = None) -> QTensor:
        """t rounded to `to_scale` (round half up) and range-checked to q_bits signed bits:
        what t's bound needs, capped at `bits` (default: the node's activation width,
        ``config.bits_for(first output)``).

        Per element: k + q_bits + 2 constraints, k = t.scale - to_scale. A value too large
        for `bits` makes the witness fail in this node's rescale."""
        return self._rescale(t, to_scale, bits, relu=False)

    def rescale_relu(self, t: QTensor, to_scale: int, *, bits: int | None = None) -> QTensor:
        """max(0, rescale(t)) for the cost of the rescale alone (the sign bit is reused)."""
        return self._rescale(t, to_scale, bits, relu=True)

    def activation(self, t: QTensor) -> QTensor:
        """t at ``config.act_scale``: rescaled (cached per tensor) if finer, upscaled if
        coarser. Use it before multiplying two tensors or feeding a nonlinearity."""
        target = self.config.act_scale
        if t.scale == target:
            return t
        if t.scale < target:
            return self.upscale(t, target)
        hit = self.state.activations.get(id(t))
        if hit is not None:
            return hit[1]
        out = self.rescale(t, target)
        self.state.activations[id(t)] = (t, out)
        return out

    def _rescale(self, t: QTensor, to_scale: int, bits: int | None, *, relu: bool) -> QTensor:
        k = t.scale - to_scale
        if k < 0:
            raise self.error(f"rescale from scale {t.scale} to the finer {to_scale}: use upscale")
        if k == 0:
            return t if not relu else self._relu_same_scale(t)
        half = 1 << (k - 1)
        hi = (t.bound + half) >> k
        lo = -((half - t.bound) >> k)
        need = bits_for_bound(max(hi, lo))
        cap = (
            self.config.bits_for(self.outputs[0] if self.outputs else self.node)
            if bits is None
            else bits
        )
        q_bits = min(need, cap)
        bound = min(max(hi, lo), 1 << (q_bits - 1))
        b = self.builder
        gadget = fixed_point.rescale_relu if relu else fixed_point.rescale

        def one(v: Value) -> Value:
            if isinstance(v, int):
                q = (v + half) >> k
                return max(q, 0) if relu else q
            res = gadget(b, v + half, k, q_bits)
            return res[1] if isinstance(res, tuple) else res

        with self.gadget("rescale_relu" if relu else "rescale"):
            values = map_values(t.values, one)
        return QTensor(values, to_scale, bound)

    def _relu_same_scale(self, t: QTensor) -> QTensor:
        bits = bits_for_bound(t.bound)
        b = self.builder

        def one(v: Value) -> Value:
            return max(v, 0) if isinstance(v, int) else fixed_point.relu(b, v, bits)

        with self.gadget("relu"):
            values = map_values(t.values, one)
        return QTensor(values, t.scale, t.bound)
