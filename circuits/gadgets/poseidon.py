"""The Poseidon hash as constraints: circomlib's ``Poseidon(n)``, value for value.

The permutation of `circuits.poseidon` written against the builder: round constants and
the MDS matrix are linear (free); each S-box x^5 is three multiplications
(x2 = x*x, x4 = x2*x2, x5 = x4*x). No hint is asked: every wire is the output of a `mul`,
so the hash is a function of the inputs fixed by the constraints alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.gadgets.bits import as_lc
from circuits.lc import LinearCombination, Operand
from circuits.poseidon import FULL_ROUNDS, MAX_INPUTS, PARTIAL_ROUNDS, constants, poseidon

#: Multiplications per S-box application.
SBOX_CONSTRAINTS = 3


def poseidon_constraints(n: int) -> int:
    """Exact constraint count of `poseidon_hash` over n non-constant inputs:
    3 * (8 * t + partial rounds - 1), t = n + 1 (240 for n = 2, 609 for n = 16). The
    "- 1": the first S-box of element 0 acts on the constant 0 + ark[0][0] and folds."""
    t = n + 1
    return SBOX_CONSTRAINTS * (FULL_ROUNDS * t + PARTIAL_ROUNDS[t] - 1)


def _sbox(api: Builder, x: LinearCombination) -> LinearCombination:
    x2 = api.mul(x, x)
    x4 = api.mul(x2, x2)
    return api.mul(x4, x)


def poseidon_hash(api: Builder, inputs: Sequence[Operand]) -> LinearCombination:
    """circomlib's Poseidon of 1..16 field elements.

    Preconditions: 1 <= len(inputs) <= 16 (BuildError otherwise). Constraints:
    `poseidon_constraints(len(inputs))` when no input is constant (fewer otherwise: a
    constant S-box input folds away). Inputs are field elements; no range is assumed.

    Soundness: each S-box output is pinned by its three multiplication constraints and
    every other step is a linear combination, so the returned LinearCombination equals
    Poseidon(inputs)
    in every satisfying witness; collision resistance of Poseidon then makes the digest
    binding on the inputs.
    """
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise BuildError(f"poseidon_hash takes 1..{MAX_INPUTS} inputs, got {n}")
    params = constants(n + 1)
    state = [LinearCombination.constant(0), *(as_lc("poseidon_hash", x) for x in inputs)]
    if all(s.is_constant() for s in state):
        return LinearCombination.constant(poseidon([s.constant_value() for s in state[1:]]))
    with api.gadget("poseidon"):
        for r in range(params.rounds):
            state = [s + c for s, c in zip(state, params.ark[r], strict=True)]
            if params.is_full(r):
                state = [_sbox(api, s) for s in state]
            else:
                state[0] = _sbox(api, state[0])
            state = [_mix(row, state) for row in params.mds]
    return state[0]


def _mix(row: Sequence[int], state: Sequence[LinearCombination]) -> LinearCombination:
    out = LinearCombination.constant(0)
    for m, s in zip(row, state, strict=True):
        out = out + s * m
    return out
