"""The BN254 scalar field F_r and the signed encoding of integers into it.

Every wire of a circuit holds an element of F_r. A signed integer v is encoded as
v mod r; decoding maps the upper half of the field back to negative numbers. Encoding
refuses values whose magnitude reaches the half of the field, so nothing wraps silently.
"""

from __future__ import annotations

from collections.abc import Iterable

from circuits.errors import FieldRangeError

#: Order of the BN254 (alt_bn128) G1/G2 groups: the scalar field of every circuit.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: Characteristic of the base field F_q the curve points live in.
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Bit length of r.
R_BITS = R.bit_length()  # 254
#: Largest magnitude a signed value may have: |v| <= HALF keeps v and -v distinct in F_r.
HALF = (R - 1) // 2


def to_field(v: int) -> int:
    """Encode a signed integer as v mod r; raise if |v| > (r - 1) / 2 (it would alias)."""
    if v > HALF or v < -HALF:
        raise FieldRangeError(f"value {v} does not fit the signed range of F_r (|v| <= (r-1)/2)")
    return v % R


def from_field(x: int) -> int:
    """Decode a field element to the signed integer in [-(r-1)/2, (r-1)/2]."""
    if not 0 <= x < R:
        raise FieldRangeError(f"{x} is not a canonical field element (0 <= x < r)")
    return x - R if x > HALF else x


def inv(x: int) -> int:
    """Multiplicative inverse in F_r; raises ZeroDivisionError for 0."""
    if x % R == 0:
        raise ZeroDivisionError("0 has no inverse in F_r")
    return pow(x, R - 2, R)


def check_canonical(values: Iterable[int], what: str = "public input") -> list[int]:
    """Return the values as a list, raising if one is not in [0, r) (naming its index)."""
    out = list(values)
    for i, x in enumerate(out):
        if not 0 <= x < R:
            raise FieldRangeError(f"{what} #{i} = {x} is not in [0, r)")
    return out
