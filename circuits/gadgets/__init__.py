"""The gadget library: plain functions taking the builder first, one module per family.

Each gadget documents its preconditions (checked when the circuit is built), its exact
constraint count and why it is sound; each asks its hints and constrains their outputs in
the same `api.gadget(...)` scope.
"""

from circuits.gadgets.bits import (
    assert_bits_le,
    assert_signed,
    assert_unsigned,
    from_bits,
    to_bits,
    to_signed_bits,
)
from circuits.gadgets.compare import (
    assert_less_or_equal,
    assert_less_than,
    is_equal,
    is_zero,
    less_or_equal,
    less_than,
)
from circuits.gadgets.fixed_point import (
    div_floor_const,
    relu,
    rescale,
    rescale_relu,
    round_rescale,
)
from circuits.gadgets.locate import locate, locate_cost
from circuits.gadgets.select import abs_, clamp, max_, min_, select

__all__ = [
    "abs_",
    "assert_bits_le",
    "assert_less_or_equal",
    "assert_less_than",
    "assert_signed",
    "assert_unsigned",
    "clamp",
    "div_floor_const",
    "from_bits",
    "is_equal",
    "is_zero",
    "less_or_equal",
    "less_than",
    "locate",
    "locate_cost",
    "max_",
    "min_",
    "relu",
    "rescale",
    "rescale_relu",
    "round_rescale",
    "select",
    "to_bits",
    "to_signed_bits",
]
