"""Shared precondition checks and operand coercion for the gadget library.

Every gadget validates its build-time parameters before it emits anything, so a bad bit
width or constant fails when the circuit is built, with the gadget and parameter named.
"""

from __future__ import annotations

from circuits.errors import BuildError
from circuits.field import R
from circuits.lc import LinearCombination, Operand

#: Widest value a range check accepts: leaves room for the offsets the gadgets add
#: (x + 2^(n-1), a - b + 2^n) without ever reaching r/2.
MAX_RANGE_BITS = 252


def require_int(gadget: str, name: str, value: object, lo: int, hi: int | None = None) -> int:
    """`value` as an int in [lo, hi] (hi None: unbounded), or BuildError naming the gadget."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BuildError(f"{gadget}: {name} must be an int, got {type(value).__name__}")
    if value < lo or (hi is not None and value > hi):
        bounds = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise BuildError(f"{gadget}: {name} = {value} is out of range {bounds}")
    return value


def require_width(gadget: str, name: str, total: int, limit: int = MAX_RANGE_BITS) -> None:
    """BuildError when a combined bit width `total` (e.g. k + q_bits) exceeds `limit`."""
    if total > limit:
        raise BuildError(f"{gadget}: {name} = {total} exceeds {limit} bits")


def as_lc(gadget: str, x: Operand) -> LinearCombination:
    """A linear combination from a linear combination or an int (signed ints encoded mod r)."""
    if isinstance(x, LinearCombination):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return LinearCombination.constant(x % R)
    raise BuildError(f"{gadget}: expected a linear combination or an int, got {type(x).__name__}")
