"""Fixed-point quantization: one frozen configuration and the float <-> integer maps.

A quantized value is a signed integer q standing for the real number q / 2^scale: `scale`
is a number of fraction bits. Constants (weights, biases) are quantized at `weight_scale`;
model inputs at `input_scale`; every activation that leaves a nonlinear step or a rescale
is at `act_scale`. A product of two quantized values has the sum of their scales, so
linear layers accumulate at ``act_scale + weight_scale`` and a rescale (floor division by a
power of two, range-checked) brings them back.

Widths, all signed (a value of width n lies in [-2^(n-1), 2^(n-1))):

* `input_bits`: every quantized model input is range-checked to this width in the circuit;
  a float input outside it is refused before proving (`InputRangeError`).
* `act_bits`: the width a rescaled activation is range-checked to. A value that does not
  fit fails the witness with an error naming the node (`QuantOverflowError`).
* `output_bits`: the width of the public outputs (range-checked).
* `acc_bits`: the largest static bound any intermediate value may have; far below the
  field size (254 bits), so no linear combination can wrap modulo r. A node whose bound
  would exceed it is refused at compile time, naming the node.

The configuration is saved (JSON) with every artifact; the witness program is rebuilt from
it, so any change to it changes the circuit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from circuits.errors import BuildError
from circuits.onnx.schema import QuantConfigJson

#: Hard ceiling for `acc_bits`: two such values still sum well below r / 2.
MAX_ACC_BITS = 240


@dataclass(frozen=True)
class QuantConfig:
    """Everything that fixes how floats become circuit integers. Immutable; JSON round-trips.

    * ``input_scale`` / ``weight_scale`` / ``act_scale``: fraction bits of inputs, constants
      and activations (outputs are at ``act_scale``).
    * ``input_bits`` / ``act_bits`` / ``output_bits`` / ``acc_bits``: signed widths (above).
    * ``pack``: pack several public inputs / outputs per field element when True.
    * ``approx``: named integer settings of nonlinear approximations (segment counts,
      polynomial degrees, table sizes), read with `approx_param`; given as a mapping or
      pairs, stored as sorted (name, value) pairs.
    * ``tensor_bits``: calibrated widths per node (keyed by the node's first output),
      capping ``act_bits`` for the rescales of that node; stored like ``approx``.
    """

    input_scale: int = 16
    weight_scale: int = 16
    act_scale: int = 16
    input_bits: int = 24
    act_bits: int = 22
    output_bits: int = 32
    acc_bits: int = 128
    pack: bool = True
    approx: tuple[tuple[str, int], ...] = ()
    tensor_bits: tuple[tuple[str, int], ...] = field(default=())

    def __post_init__(self) -> None:
        for key in ("approx", "tensor_bits"):  # accept mappings; store sorted pairs
            pairs = getattr(self, key)
            items = pairs.items() if isinstance(pairs, Mapping) else pairs
            object.__setattr__(self, key, tuple(sorted((str(k), int(v)) for k, v in items)))
        for name in ("input_scale", "weight_scale", "act_scale"):
            v = getattr(self, name)
            if not 0 <= v <= 64:
                raise BuildError(f"QuantConfig.{name} = {v}: expected 0..64 fraction bits")
        for name in ("input_bits", "act_bits", "output_bits"):
            v = getattr(self, name)
            if not 2 <= v <= 126:
                raise BuildError(f"QuantConfig.{name} = {v}: expected a width in 2..126")
        if not 16 <= self.acc_bits <= MAX_ACC_BITS:
            raise BuildError(f"QuantConfig.acc_bits = {self.acc_bits}: expected 16..{MAX_ACC_BITS}")
        for name, bits in self.tensor_bits:
            if not 2 <= bits <= 126:
                raise BuildError(f"QuantConfig.tensor_bits[{name!r}] = {bits}: expected 2..126")

    def approx_param(self, name: str, default: int) -> int:
        """The approximation setting `name`, or `default` when the config does not set it."""
        return dict(self.approx).get(name, default)

    def bits_for(self, tensor: str) -> int:
        """Width of the rescaled activation `tensor`: calibrated if known, else ``act_bits``."""
        return dict(self.tensor_bits).get(tensor, self.act_bits)

    def replace(self, **changes: Any) -> QuantConfig:
        """A copy with some fields changed (mappings are accepted for the pair fields)."""
        return dataclasses.replace(self, **changes)

    # JSON ------------------------------------------------------------------------------
    def to_json(self) -> QuantConfigJson:
        return QuantConfigJson(
            input_scale=self.input_scale,
            weight_scale=self.weight_scale,
            act_scale=self.act_scale,
            input_bits=self.input_bits,
            act_bits=self.act_bits,
            output_bits=self.output_bits,
            acc_bits=self.acc_bits,
            pack=self.pack,
            approx=dict(self.approx),
            tensor_bits=dict(self.tensor_bits),
        )

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> QuantConfig:
        known = {f.name for f in dataclasses.fields(QuantConfig)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise BuildError(f"unknown QuantConfig field(s) {unknown}")
        return QuantConfig(**dict(d))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


# float <-> integer ----------------------------------------------------------------------
def quantize(arr: npt.ArrayLike, scale: int) -> npt.NDArray[np.object_]:
    """round(arr * 2^scale) as an object array of Python ints (exact, never wraps).

    Rounds half away from zero. Raises on NaN or infinity."""
    a = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise BuildError("cannot quantize NaN or infinite values")
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1).tolist()):
        flat[i] = _round_half_away(math.ldexp(v, scale))
    return out


def _round_half_away(x: float) -> int:
    r = math.floor(abs(x) + 0.5)
    return int(r) if x >= 0 else -int(r)


def dequantize(q: npt.ArrayLike, scale: int) -> npt.NDArray[np.float64]:
    """q / 2^scale as floats."""
    a = np.asarray(q, dtype=object)
    return np.array([math.ldexp(int(v), -scale) for v in a.reshape(-1)], dtype=np.float64).reshape(
        a.shape
    )


def bits_for_bound(bound: int) -> int:
    """Smallest signed width n with [-bound, bound] inside [-2^(n-1), 2^(n-1))."""
    return max(bound, 1).bit_length() + 1


def signed_limit(bits: int) -> int:
    """Largest magnitude guaranteed to fit a signed width: 2^(bits-1) - 1."""
    return (1 << (bits - 1)) - 1
