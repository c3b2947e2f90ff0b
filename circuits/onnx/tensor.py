"""Quantized tensors: numpy arrays of circuit values with a scale and a static bound.

A `QTensor` holds, per element, either a `LinearCombination` of circuit wires or a Python
``int`` (a value known when the circuit is built, e.g. a zero from padding). Element e
stands for the real number e / 2^scale.

``bound`` is a *static* bound: every element's integer value v satisfies |v| <= bound for
every witness that satisfies the constraints built so far. It is derived from the range
checks of the gadgets and from interval arithmetic over the linear parts, never from
sample values, so it can be used to pick bit widths soundly (a bit decomposition of width
`bits_for_bound(bound)` cannot fail for an honest prover, and no linear combination of
bounded values can wrap modulo r as long as bounds stay below 2^acc_bits).

Numpy object arrays give shape ops (reshape, transpose, slicing, concatenation,
broadcasting) for free. Sums of many elements should go through `linear`, which builds
one term map instead of n intermediate combinations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from circuits.field import R
from circuits.lc import LinearCombination

#: One element of a quantized tensor: a linear combination of wires, or a known integer.
Value = Union[LinearCombination, int]  # noqa: UP007
#: An object array whose elements are `Value`s.
ValueArray = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class QTensor:
    """A tensor of circuit values: element e means e / 2^scale, and |e| <= bound always.

    * ``values``: object ndarray of `Value` (never modified in place after construction);
    * ``scale``: fraction bits (>= 0);
    * ``bound``: static bound on the magnitude of every element's integer value.
    """

    values: ValueArray
    scale: int
    bound: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def size(self) -> int:
        return int(self.values.size)

    @property
    def ndim(self) -> int:
        return int(self.values.ndim)

    def with_values(self, values: ValueArray) -> QTensor:
        """Same scale and bound, new elements (for shape ops that only move elements)."""
        return QTensor(np.asarray(values, dtype=object), self.scale, self.bound)

    def reshape(self, shape: Sequence[int]) -> QTensor:
        return self.with_values(self.values.reshape(tuple(shape)))

    def transpose(self, perm: Sequence[int] | None = None) -> QTensor:
        return self.with_values(self.values.transpose(None if perm is None else tuple(perm)))

    def map(self, fn: Callable[[Value], Value], *, scale: int, bound: int) -> QTensor:
        """Apply fn to every element; the caller states the resulting scale and bound."""
        return QTensor(map_values(self.values, fn), scale, bound)

    def flat(self) -> list[Value]:
        """The elements in C order."""
        return list(self.values.reshape(-1))

    def is_constant(self) -> bool:
        """True when every element is known at build time (a plain int)."""
        return all(isinstance(v, int) for v in self.values.reshape(-1))


def object_array(items: Iterable[Value], shape: Sequence[int]) -> ValueArray:
    """An object ndarray of the given shape from elements in C order."""
    lst = list(items)
    out = np.empty(len(lst), dtype=object)
    for i, v in enumerate(lst):
        out[i] = v
    return out.reshape(tuple(shape))


def map_values(values: ValueArray, fn: Callable[[Value], Value]) -> ValueArray:
    """Elementwise fn over an object array, keeping its shape."""
    return object_array((fn(v) for v in values.reshape(-1)), values.shape)


def int_array(arr: npt.ArrayLike) -> ValueArray:
    """An integer ndarray (any int dtype) as an object array of Python ints."""
    a = np.asarray(arr)
    return object_array((int(v) for v in a.reshape(-1).tolist()), a.shape)


def linear(terms: Iterable[tuple[int, Value]], const: int = 0) -> Value:
    """sum(coef * v) + const in one pass (free: no constraint).

    Returns a plain int when every v is an int, so constants keep folding."""
    acc: dict[int, int] = {}
    k0 = const
    for coef, v in terms:
        if not coef:
            continue
        if isinstance(v, int):
            k0 += coef * v
            continue
        for w, c in v.terms.items():
            acc[w] = acc.get(w, 0) + coef * c
    if not acc:
        return k0
    if k0:
        acc[0] = acc.get(0, 0) + k0
    return LinearCombination({w: c % R for w, c in acc.items() if c % R})


def as_lc(v: Value) -> LinearCombination:
    """A `Value` as a linear combination (ints become constants)."""
    return v if isinstance(v, LinearCombination) else LinearCombination.constant(v)


#: A constant input or output of a node: a numpy array with its ONNX dtype.
Const = npt.NDArray[Any]
#: What a lowering receives for one input (None: an omitted optional input).
Operand = Union[QTensor, Const, None]  # noqa: UP007
#: What a lowering returns: one output, or one per node output.
Result = Union[QTensor, Const, tuple[Union[QTensor, Const], ...]]  # noqa: UP007
