"""Hints: witness computations done outside the constraint system.

A hint computes witness values that would be expensive or impossible to express as
constraints (the bits of a number, a quotient, an inverse). A hint proves nothing: the
gadget that calls it must pin every output with constraints, and the builder checks that
each output appears in a constraint of the same gadget. Hints are registered by name so a
compiled circuit's witness program can be stored and replayed; parameters are plain ints.

Each hint takes the field values of its inputs and its integer parameters and returns
exactly ``n_outputs`` field elements.
"""

from __future__ import annotations

from collections.abc import Callable

from circuits.errors import BuildError
from circuits.field import R, from_field

Hint = Callable[..., list[int]]

HINTS: dict[str, Hint] = {}


def register_hint(name: str) -> Callable[[Hint], Hint]:
    """Register `fn` under `name` (unique) in the hint registry."""

    def deco(fn: Hint) -> Hint:
        if name in HINTS and HINTS[name] is not fn:
            raise BuildError(f"hint {name!r} is already registered")
        HINTS[name] = fn
        return fn

    return deco


def get_hint(name: str) -> Hint:
    try:
        return HINTS[name]
    except KeyError:
        raise BuildError(f"unknown hint {name!r}; registered: {sorted(HINTS)}") from None


@register_hint("copy")
def copy_hint(x: int) -> list[int]:
    """The input value itself (assigns a declared wire, e.g. a public output)."""
    return [x]


@register_hint("bits")
def bits_hint(x: int, *, n: int) -> list[int]:
    """The n low bits of x, least significant first."""
    return [(x >> i) & 1 for i in range(n)]


@register_hint("signed_bits")
def signed_bits_hint(x: int, *, n: int) -> list[int]:
    """The n bits of (signed(x) + 2^(n-1)): the offset binary form of a signed value."""
    v = from_field(x) + (1 << (n - 1))
    return [(v >> i) & 1 for i in range(n)]


@register_hint("inverse_or_zero")
def inverse_or_zero_hint(x: int) -> list[int]:
    """1/x, or 0 when x = 0."""
    return [pow(x, R - 2, R) if x else 0]


@register_hint("is_zero")
def is_zero_hint(x: int) -> list[int]:
    """[1 if x == 0 else 0, 1/x or 0]."""
    return [0 if x else 1, pow(x, R - 2, R) if x else 0]


@register_hint("floor_divmod_pow2")
def floor_divmod_pow2_hint(x: int, *, k: int) -> list[int]:
    """Floor division of signed(x) by 2^k: [quotient mod r, remainder] with 0 <= rem < 2^k."""
    v = from_field(x)
    return [(v >> k) % R, v & ((1 << k) - 1)]


@register_hint("floor_div_const")
def floor_div_const_hint(x: int, *, d: int) -> list[int]:
    """floor(signed(x) / d) mod r for a positive integer constant d."""
    if d <= 0:
        raise ValueError(f"divisor d = {d} must be positive")
    return [(from_field(x) // d) % R]
