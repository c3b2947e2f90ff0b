"""Salted commitments: gadget = values, cost per 16-bit weight, binding, hiding, errors."""

from __future__ import annotations

import pytest

from circuits.builder import Builder
from circuits.commitment import CHUNK, SALT_BITS, Segment, commit, hash_words, new_salt, per_word
from circuits.errors import FieldRangeError
from circuits.field import R
from circuits.gadgets.commitment import commit_signed, commit_words_constraints
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import Define, check_circuit, replay, wire


def committer(n: int, bits: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        out = api.public_input("c")
        xs = api.private_inputs("x", n)
        api.assign_public(out, commit_signed(api, xs, bits, api.private_input("salt")))
        return out

    return define


def test_equals_values_at_the_boundaries() -> None:
    bits, n = 16, 20
    half = 1 << (bits - 1)
    xs = [-half, half - 1, 0, -1, 1] * 4
    salt = (1 << SALT_BITS) - 1
    res = check_circuit(
        committer(n, bits),
        [{"x": [v % R for v in xs], "salt": salt}],
        [
            {"x": [half] + [0] * (n - 1), "salt": 1},
            {"x": [R - half - 1] + [0] * (n - 1), "salt": 1},
        ],
    )
    assert res.outputs[0] == [commit([Segment("w", bits, tuple(xs))], salt)]


def test_cost_per_16_bit_weight_is_under_20() -> None:
    n, bits = CHUNK * per_word(16), 16  # 225 weights: one full hash of 15 words
    api = Builder()
    commit_signed(api, api.private_inputs("x", n), bits, api.private_input("salt"))
    assert api.n_constraints == n * (bits + 1) + commit_words_constraints(CHUNK)
    assert api.n_constraints / n < 20


def test_a_forged_commitment_or_changed_salt_is_rejected() -> None:
    def other_salt(w: list[int], c: Circuit) -> list[int]:
        salt = c.cs.n_public + 1 + 4  # private inputs follow the public ones: x[0..3], salt
        forged = replay(c, w, {salt: w[salt] + 1})
        forged[wire(1)] = w[wire(1)]  # the statement keeps the original commitment
        return forged

    def forged_digest(w: list[int], c: Circuit) -> list[int]:
        forged = list(w)
        forged[wire(1)] = commit([Segment("w", 8, (1, 2, 3, 5))], 7)
        return forged

    check_circuit(
        committer(4, 8), [{"x": [1, 2, 3, 4], "salt": 7}], malicious=[other_salt, forged_digest]
    )


def test_the_salt_is_in_the_hash() -> None:
    """A low-entropy value cannot be found from its commitment by trying every candidate."""
    salt = new_salt()
    assert 0 <= salt < 1 << SALT_BITS
    target = commit([Segment("score", 8, (42,))], salt)
    unsalted = {commit([Segment("score", 8, (v,))], 0): v for v in range(-128, 128)}
    assert target not in unsalted
    assert commit([Segment("score", 8, (42,))], salt ^ 1) != target
    assert new_salt() != salt


def test_segments_pack_separately_and_empty_lists_hash_the_salt() -> None:
    a = Segment("a", 16, (1, 2))
    b = Segment("b", 40, (3,))
    assert commit([a, b], 5) == hash_words([*a.words(), *b.words()], 5)
    assert len(a.words() + b.words()) == 2
    assert commit([], 5) == hash_words([], 5)


def test_bad_values_and_salts_are_named() -> None:
    with pytest.raises(FieldRangeError, match=r"w #1 = 128"):
        commit([Segment("w", 8, (0, 128))], 1)
    with pytest.raises(FieldRangeError, match="salt"):
        hash_words([1], R)
    with pytest.raises(FieldRangeError, match="width 127"):
        per_word(127)
