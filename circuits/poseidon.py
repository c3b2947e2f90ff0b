"""Poseidon over the BN254 scalar field with circomlib's parameters (values, not circuits).

circomlib's ``Poseidon(n)`` (and circomlibjs's ``buildPoseidon``) hashes n = 1..16 field
elements with a permutation of width t = n + 1: S-box x^5, 8 full rounds and
``PARTIAL_ROUNDS[t]`` partial rounds, the state starting as ``[0, inputs...]`` and the
hash being the first element of the final state. Each round adds the round constants
(ARK), applies the S-box (to every element in a full round, to element 0 in a partial
one) and multiplies the state by the MDS matrix: ``s'[i] = sum_j M[i][j] s[j]``.

The constants are circomlib's: they come from the Poseidon authors' reference parameter
script (a Grain LFSR seeded with the field, the S-box, the field size, t and the round
counts; round constants by rejection sampling, the MDS matrix as the Cauchy matrix
``1 / (x_i + y_j)`` of 2t further samples). `constants` regenerates them from that
published procedure instead of shipping 900 kB of numbers; the tests compare every
constant with circomlibjs's file and hashes with circomlibjs and circomlib's vectors, so
any deviation is caught.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from circuits.errors import FieldRangeError
from circuits.field import R

#: Full rounds for every width (circomlib).
FULL_ROUNDS = 8
#: Partial rounds by width t = 2..17 (circomlib's N_ROUNDS_P).
PARTIAL_ROUNDS = dict(
    zip(
        range(2, 18),
        (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68),
        strict=True,
    )
)
#: Most inputs one hash takes (t = 17).
MAX_INPUTS = 16
_FIELD_BITS = R.bit_length()  # 254


@dataclass(frozen=True)
class PoseidonParams:
    """Round constants ``ark[round][i]`` and the MDS matrix ``mds[i][j]`` of width t."""

    t: int
    partial_rounds: int
    ark: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]

    @property
    def rounds(self) -> int:
        return FULL_ROUNDS + self.partial_rounds

    def is_full(self, r: int) -> bool:
        half = FULL_ROUNDS // 2
        return r < half or r >= half + self.partial_rounds


class _Grain:
    """The 80-bit Grain LFSR of the reference parameter script."""

    def __init__(self, t: int, partial: int) -> None:
        fields = ((1, 2), (0, 4), (_FIELD_BITS, 12), (t, 12), (FULL_ROUNDS, 10), (partial, 10))
        bits: list[int] = []
        for value, width in fields:
            bits.extend((value >> (width - 1 - i)) & 1 for i in range(width))
        bits.extend([1] * 30)
        self._s = bits
        for _ in range(160):
            self._step()

    def _step(self) -> int:
        s = self._s
        new = s[62] ^ s[51] ^ s[38] ^ s[23] ^ s[13] ^ s[0]
        s.pop(0)
        s.append(new)
        return new

    def _bit(self) -> int:
        # Self-shrinking: a pair (b1, b2) yields b2 when b1 is 1, nothing otherwise.
        while not self._step():
            self._step()
        return self._step()

    def integer(self) -> int:
        v = 0
        for _ in range(_FIELD_BITS):
            v = (v << 1) | self._bit()
        return v

    def field_element(self) -> int:
        """A uniform element of [0, r) by rejection sampling (round constants)."""
        while True:
            v = self.integer()
            if v < R:
                return v


@cache
def constants(t: int) -> PoseidonParams:
    """circomlib's parameters of width t (2..17), generated once per process."""
    if t not in PARTIAL_ROUNDS:
        raise FieldRangeError(f"Poseidon width t = {t}: circomlib defines t = 2..17")
    partial = PARTIAL_ROUNDS[t]
    grain = _Grain(t, partial)
    flat = [grain.field_element() for _ in range((FULL_ROUNDS + partial) * t)]
    ark = tuple(tuple(flat[r * t : (r + 1) * t]) for r in range(FULL_ROUNDS + partial))
    # The Cauchy samples are reduced mod r, not rejected (as in the reference script).
    xy = [grain.integer() % R for _ in range(2 * t)]
    if len(set(xy)) != len(xy):  # never happens for circomlib's widths; the script retries
        raise FieldRangeError(f"Poseidon width {t}: repeated Cauchy samples")
    xs, ys = xy[:t], xy[t:]
    mds = tuple(tuple(pow((x + y) % R, R - 2, R) for y in ys) for x in xs)
    return PoseidonParams(t, partial, ark, mds)


def permute(state: Sequence[int], params: PoseidonParams) -> list[int]:
    """The Poseidon permutation of `state` (t field elements)."""
    s = [v % R for v in state]
    for r in range(params.rounds):
        s = [(v + c) % R for v, c in zip(s, params.ark[r], strict=True)]
        if params.is_full(r):
            s = [pow(v, 5, R) for v in s]
        else:
            s[0] = pow(s[0], 5, R)
        s = [sum(m * v for m, v in zip(row, s, strict=True)) % R for row in params.mds]
    return s


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib's ``Poseidon(len(inputs))`` of 1..16 field elements."""
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise FieldRangeError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    for i, v in enumerate(inputs):
        if not 0 <= v < R:
            raise FieldRangeError(f"Poseidon input #{i} = {v} is not a field element in [0, r)")
    return permute([0, *inputs], constants(n + 1))[0]
