"""Linear combinations over the wires of a circuit.

A `LinearCombination` is a map wire -> coefficient in F_r; wire 0 is the constant one, so a
constant c is {0: c}. Addition, subtraction, negation and multiplication by a constant build
new combinations and cost no constraint: in R1CS a linear combination is free, only the
product of two of them needs a constraint (`Builder.mul`). Zero coefficients are dropped,
so equal combinations have equal term maps.
"""

from __future__ import annotations

from typing import Union

from circuits.field import R

Terms = dict[int, int]


class LinearCombination:
    """sum(coef * wire) over F_r. Immutable by convention: operators return new objects."""

    __slots__ = ("terms",)

    def __init__(self, terms: Terms) -> None:
        self.terms = terms

    @staticmethod
    def constant(c: int) -> LinearCombination:
        c %= R
        return LinearCombination({0: c} if c else {})

    @staticmethod
    def wire(w: int) -> LinearCombination:
        return LinearCombination({w: 1})

    # constant folding ------------------------------------------------------------------
    def is_constant(self) -> bool:
        """True when the combination involves no wire but the constant one."""
        t = self.terms
        return len(t) <= 1 and (not t or 0 in t)

    def constant_value(self) -> int:
        """The value of a constant combination (see `is_constant`)."""
        if not self.is_constant():
            raise ValueError("not a constant linear combination")
        return self.terms.get(0, 0)

    def single_wire(self) -> int | None:
        """The wire w when the combination is exactly 1*w (w != 0), else None."""
        t = self.terms
        if len(t) == 1:
            ((w, c),) = t.items()
            if w and c == 1:
                return w
        return None

    # arithmetic ------------------------------------------------------------------------
    def _combine(self, other: Operand, sign: int) -> LinearCombination:
        out = dict(self.terms)
        items: Terms = other.terms if isinstance(other, LinearCombination) else {0: other % R}
        for w, c in items.items():
            v = (out.get(w, 0) + sign * c) % R
            if v:
                out[w] = v
            else:
                out.pop(w, None)
        return LinearCombination(out)

    def __add__(self, other: Operand) -> LinearCombination:
        return self._combine(other, 1)

    def __radd__(self, other: Operand) -> LinearCombination:
        return self._combine(other, 1)

    def __sub__(self, other: Operand) -> LinearCombination:
        return self._combine(other, -1)

    def __rsub__(self, other: Operand) -> LinearCombination:
        return (-self)._combine(other, 1)

    def __neg__(self) -> LinearCombination:
        return LinearCombination({w: R - c for w, c in self.terms.items()})

    def __mul__(self, k: object) -> LinearCombination:
        if isinstance(k, LinearCombination):
            if k.is_constant():
                return self.scale(k.constant_value())
            if self.is_constant():
                return k.scale(self.constant_value())
            raise TypeError("the product of two wires is not linear: use Builder.mul")
        if not isinstance(k, int):
            return NotImplemented
        return self.scale(k)

    __rmul__ = __mul__

    def scale(self, k: int) -> LinearCombination:
        k %= R
        if not k:
            return LinearCombination({})
        if k == 1:
            return self
        return LinearCombination({w: c * k % R for w, c in self.terms.items()})

    def evaluate(self, values: list[int]) -> int:
        """<self, values> mod r."""
        s = 0
        for w, c in self.terms.items():
            s += c * values[w]
        return s % R

    def __repr__(self) -> str:
        parts = [f"{c}*w{w}" if w else str(c) for w, c in sorted(self.terms.items())]
        return "LC(" + (" + ".join(parts) or "0") + ")"

    # A linear combination is not a boolean or a hashable key: guard against `if x:`.
    def __bool__(self) -> bool:
        raise TypeError(
            "a linear combination has no truth value in a circuit; compare with gadgets"
        )

    __hash__ = None  # type: ignore[assignment]


Operand = Union[LinearCombination, int]  # noqa: UP007
