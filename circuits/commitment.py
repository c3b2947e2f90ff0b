"""Salted Poseidon commitments to lists of small signed integers (values, not circuits).

A commitment hides a list of segments, each a list of signed integers of one width
(weights of a layer, the quantized inputs, the outputs), behind one field element:

1. **Packing.** A segment of width ``bits`` (1..126) is packed ``per_word = 253 // bits``
   values per field element, value j of a word at bit offset ``bits * j`` after adding
   ``2^(bits-1)``: ``word_k = sum_j (v_{k*per_word+j} + 2^(bits-1)) << (bits*j)``, the last
   word holding the rest. Every value is range-checked to its width first, so each offset
   value lies in [0, 2^bits), a word is below 2^253 < r and the packing is injective.
   Segments are packed one after another (a word never spans two segments).
2. **Hashing.** With ``CHUNK = 15`` words per call: ``h_0 = salt``, then
   ``h_{c+1} = Poseidon([h_c, words[15c .. 15c+14]])`` over consecutive chunks (the last
   chunk may be shorter; Poseidon of 1 + len(chunk) inputs, circomlib's parameters); with
   no word at all, ``Poseidon([salt])``. The commitment is the last h.

The number of segments, their lengths and widths are fixed by the circuit (the manifest
records them), so the chaining needs no length padding. The salt is 248 random bits,
fresh for each commitment: without it a commitment to low-entropy data (a credit score,
a yes/no feature) could be found by hashing every candidate.

Anyone can recompute a commitment with circomlibjs's ``poseidon`` and this packing.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from circuits.errors import FieldRangeError
from circuits.field import R
from circuits.poseidon import MAX_INPUTS, poseidon

#: Words hashed per Poseidon call (with the running digest: 16 inputs, t = 17).
CHUNK = MAX_INPUTS - 1
#: Bits of a packed word: below 2^253 < r.
WORD_BITS = 253
#: Random bits of a salt.
SALT_BITS = 248
#: Widest value a segment may hold (a packed word keeps at least two per word).
MAX_VALUE_BITS = 126


def new_salt() -> int:
    """A fresh salt of `SALT_BITS` random bits from the OS's CSPRNG."""
    return secrets.randbits(SALT_BITS)


def per_word(bits: int) -> int:
    """Values of width `bits` per packed word."""
    if not 1 <= bits <= MAX_VALUE_BITS:
        raise FieldRangeError(f"commitment width {bits}: expected 1..{MAX_VALUE_BITS} bits")
    return WORD_BITS // bits


@dataclass(frozen=True)
class Segment:
    """One list of signed values of one width, as committed (module docstring)."""

    name: str
    bits: int
    values: tuple[int, ...]

    def words(self) -> list[int]:
        """The packed words of the values (each must fit `bits` signed bits)."""
        k, half = per_word(self.bits), 1 << (self.bits - 1)
        out = [0] * -(-len(self.values) // k)
        for i, v in enumerate(self.values):
            if not -half <= v < half:
                raise FieldRangeError(
                    f"{self.name} #{i} = {v} does not fit {self.bits} signed bits"
                )
            out[i // k] |= (v + half) << (self.bits * (i % k))
        return out


def word_count(n: int, bits: int) -> int:
    """Packed words of n values of width `bits`."""
    return -(-n // per_word(bits))


def hash_words(words: Sequence[int], salt: int) -> int:
    """The chained, salted Poseidon of `words` (module docstring, step 2)."""
    if not 0 <= salt < R:
        raise FieldRangeError(f"salt {salt} is not a field element in [0, r)")
    h = salt
    if not words:
        return poseidon([h])
    for c in range(0, len(words), CHUNK):
        h = poseidon([h, *words[c : c + CHUNK]])
    return h


def commit(segments: Sequence[Segment], salt: int) -> int:
    """The commitment to `segments` (in order) under `salt`."""
    words: list[int] = []
    for s in segments:
        words.extend(s.words())
    return hash_words(words, salt)


def poseidon_calls(n_words: int) -> int:
    """Poseidon calls a commitment to n_words words makes."""
    return max(1, -(-n_words // CHUNK))


def input_commitment(values: Sequence[int], bits: int, salt: int) -> int:
    """The commitment a private-inputs statement carries: the quantized inputs (model
    order, one segment of width `bits`, the model's ``input_bits``) under `salt`."""
    return commit([Segment("inputs", bits, tuple(values))], salt)
