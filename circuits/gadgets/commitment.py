"""Salted Poseidon commitments as constraints (the scheme of `circuits.commitment`).

`pack_words` packs range-checked values into field elements (free); `commit_words` chains
Poseidon over the words with a salt; `commit_signed` does both after range-checking the
values itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import Builder
from circuits.commitment import CHUNK, per_word, poseidon_calls
from circuits.gadgets.bits import as_lc, assert_signed
from circuits.gadgets.poseidon import poseidon_constraints, poseidon_hash
from circuits.lc import LinearCombination, Operand


def pack_words(values: Sequence[Operand], bits: int) -> list[LinearCombination]:
    """Values of width `bits` as packed words (free: linear combinations).

    Precondition: every value is already constrained to ``bits`` signed bits (the caller's
    range check); the packing is then injective, since each offset value lies in
    [0, 2^bits) and a word stays below 2^253 < r."""
    k, half = per_word(bits), 1 << (bits - 1)
    words: list[LinearCombination] = []
    for at in range(0, len(values), k):
        word = LinearCombination.constant(0)
        for j, v in enumerate(values[at : at + k]):
            word = word + (as_lc("pack_words", v) + half) * (1 << (bits * j))
        words.append(word)
    return words


def commit_words_constraints(n_words: int) -> int:
    """Exact constraint count of `commit_words` over n_words non-constant words."""
    if n_words == 0:
        return poseidon_constraints(1)
    full, rest = divmod(n_words, CHUNK)
    return full * poseidon_constraints(CHUNK + 1) + (poseidon_constraints(rest + 1) if rest else 0)


def commit_words(api: Builder, words: Sequence[Operand], salt: Operand) -> LinearCombination:
    """The salted commitment to `words`: h = salt; h = Poseidon([h, chunk]) per chunk of
    15 words.

    Constraints: `commit_words_constraints(len(words))` (`poseidon_calls` hashes). The salt
    is any field element; it is not range-checked (a salt only has to be unpredictable).

    Soundness: each hash is the `poseidon_hash` gadget, whose output is a function of its
    inputs fixed by the constraints; the chain is the Merkle-Damgard-style iteration of a
    collision-resistant function over a fixed number of fixed-size blocks, so two openings
    (words, salt) with one digest would give a Poseidon collision."""
    assert poseidon_calls(len(words)) >= 1
    with api.gadget("commitment"):
        h = as_lc("commit_words", salt)
        if not words:
            return poseidon_hash(api, [h])
        for c in range(0, len(words), CHUNK):
            h = poseidon_hash(api, [h, *words[c : c + CHUNK]])
    return h


def commit_signed(
    api: Builder, values: Sequence[Operand], bits: int, salt: Operand
) -> LinearCombination:
    """Range-check `values` to `bits` signed bits, pack and commit them.

    Constraints: len(values) * (bits + 1) + `commit_words_constraints(words)`, words =
    ceil(len / (253 // bits)); for 16-bit values about 17 + 609 / 225 = 19.7 per value.
    Soundness: the range checks make the packing injective (`pack_words`), then
    `commit_words`."""
    for v in values:
        assert_signed(api, v, bits)
    return commit_words(api, pack_words(values, bits), salt)
