"""Batch verification of n Groth16 proofs of one key with n + 3 pairings.

Proof i (A_i, B_i, C_i) for inputs x_i is valid iff
e(A_i, B_i) = e(alpha, beta) e(vk_x(x_i), gamma) e(C_i, delta). With coefficients rho_i the
n equations are combined into one:

    prod_i e(-rho_i A_i, B_i) * e(S alpha, beta) * e(V, gamma) * e(sum rho_i C_i, delta) = 1

where S = sum rho_i and V = S IC_0 + sum_j s_j IC_j with s_j = sum_i rho_i x_ij (mod r): the
inputs are combined per position, so V costs k + 1 scalar multiplications for the batch.

Coefficients (Fiat-Shamir, the rendered ``verifyBatch`` derives the same ones):

    seed  = keccak256(every proof word ‖ every input word), 32-byte big-endian words, proofs
            in batch order (8 words each, EVM layout) then inputs (k words per proof);
    rho_0 = 1,  rho_i = keccak256(seed ‖ uint256(i)) mod r  for i >= 1.

Why this is sound: write proof i's equation as e_i = g^(E_i) in the target group (order r),
E_i = 0 iff it holds. The batch accepts iff E_0 + sum_{i>=1} rho_i E_i = 0 (mod r). If only
E_0 != 0 this never holds; otherwise it is a non-constant linear form in rho_1.. and the
rho_i are hash outputs fixed only once every proof and input is, so a submitter who wants
to pass a bad proof must find a hash preimage landing on one value of r (~2^-254 per try).
Nothing comes from block data, which a block producer could choose. Every proof must also
be well formed and every input below r: the same checks as single verification.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils.crypto import keccak
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128.optimized_curve import add, is_inf, multiply, normalize

from circuits.errors import VerificationInputError
from circuits.field import Q, R
from circuits.groth16.data import G1, Proof
from circuits.groth16.pairing import (
    ONE12,
    Lines,
    final_exponentiation,
    g2_lines,
    multi_miller_loop,
)
from circuits.groth16.verifier import PreparedVerifyingKey, proof_defect


def _word(v: int) -> bytes:
    return v.to_bytes(32, "big")


def batch_seed(proofs: Sequence[Proof], inputs: Sequence[Sequence[int]]) -> bytes:
    """keccak256 over every proof word, then every input word (see the module docstring).

    Words must fit 256 bits (what calldata can carry); range checks are the verifier's."""
    words = [w for p in proofs for w in p.words()] + [x for xs in inputs for x in xs]
    if any(not 0 <= w < 1 << 256 for w in words):
        raise VerificationInputError("a proof or input word does not fit 256 bits")
    return keccak(b"".join(_word(w) for w in words))


def batch_coefficients(proofs: Sequence[Proof], inputs: Sequence[Sequence[int]]) -> list[int]:
    """The coefficients rho_0 = 1, rho_i = keccak256(seed ‖ i) mod r of a batch."""
    if len(proofs) != len(inputs):
        raise VerificationInputError(f"{len(proofs)} proofs but {len(inputs)} input vectors")
    seed = batch_seed(proofs, inputs)
    return [1] + [int.from_bytes(keccak(seed + _word(i)), "big") % R for i in range(1, len(proofs))]


def _scaled(p: G1, k: int) -> G1 | None:
    """k * p in affine coordinates, None for the point at infinity."""
    acc = multiply((FQ(p[0]), FQ(p[1]), FQ.one()), k % R)
    if is_inf(acc):
        return None
    x, y = normalize(acc)
    return (int(x), int(y))


def _msm(terms: Sequence[tuple[G1, int]]) -> G1 | None:
    """sum k * p over (p, k), None for the point at infinity."""
    acc = None
    for p, k in terms:
        term = multiply((FQ(p[0]), FQ(p[1]), FQ.one()), k % R)
        acc = term if acc is None else add(acc, term)
    if acc is None or is_inf(acc):
        return None
    x, y = normalize(acc)
    return (int(x), int(y))


def _check_shape(
    pvk: PreparedVerifyingKey, proofs: Sequence[Proof], inputs: Sequence[Sequence[int]]
) -> None:
    if not proofs:
        raise VerificationInputError("a batch needs at least one proof")
    if len(proofs) != len(inputs):
        raise VerificationInputError(f"{len(proofs)} proofs but {len(inputs)} input vectors")
    k = pvk.vk.n_public
    for i, xs in enumerate(inputs):
        if len(xs) != k:
            raise VerificationInputError(f"proof #{i}: expected {k} public input(s), got {len(xs)}")


def verify_batch(
    pvk: PreparedVerifyingKey, inputs: Sequence[Sequence[int]], proofs: Sequence[Proof]
) -> bool:
    """True iff every proof is valid for its inputs, checked as one random linear combination.

    False for any malformed proof or input outside [0, r); raises `VerificationInputError`
    for an empty batch or wrong counts."""
    _check_shape(pvk, proofs, inputs)
    if any(not 0 <= x < R for xs in inputs for x in xs):
        return False
    if any(proof_defect(p) is not None for p in proofs):
        return False
    rho = batch_coefficients(proofs, inputs)
    pairs: list[tuple[Lines, G1]] = []
    for r_i, p in zip(rho, proofs, strict=True):
        a = _scaled(p.a, r_i)
        if a is not None:
            pairs.append((g2_lines(p.b), (a[0], (Q - a[1]) % Q)))
    total = sum(rho) % R
    ic = pvk.vk.ic
    scalars = [total] + [
        sum(r_i * xs[j] for r_i, xs in zip(rho, inputs, strict=True)) % R
        for j in range(len(ic) - 1)
    ]
    for lines, point in (
        (pvk.gamma_lines, _msm(list(zip(ic, scalars, strict=True)))),
        (pvk.delta_lines, _msm([(p.c, r_i) for p, r_i in zip(proofs, rho, strict=True)])),
    ):
        if point is not None:  # e(O, Q) = 1
            pairs.append((lines, point))
    # e(S alpha, beta) = e(alpha, beta)^S: raise the prepared Miller value, same final exp.
    f = pvk.alpha_beta**total * multi_miller_loop(pairs)
    return bool(final_exponentiation(f) == ONE12)
