"""Groth16 verification over BN254 in pure Python, independent of every proving backend.

A proof (A, B, C) for public inputs x_1..x_l is accepted iff

    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) = 1,   vk_x = IC_0 + sum x_i IC_i,

evaluated as the product of four optimal-ate Miller loops (py_ecc's loop: the same
``pseudo_binary_encoding`` and the same two Frobenius lines) and ONE final exponentiation;
the pairing code lives in `circuits.groth16.pairing`.
`prepare` does the key-only work once: it validates the key, computes the Miller loop value
of (alpha, beta) and the line functions of beta, gamma and delta. A verification then walks
one G2 point (B), runs one shared loop of squarings and sparse line products, and
exponentiates once. Field arithmetic is py_ecc's ``optimized_bn128`` F_q2 / F_q12.

Why the shortcuts keep the result exact (each is also compared with py_ecc's ``pairing`` in
the tests):

* Denominator elimination. Every line denominator of py_ecc's loop lies in F_q2 * w^2
  (in F_q6) or F_q2 * w^3 (in F_q4), and the last line of the loop is vertical (its value is
  in F_q6). The orders of F_q6* and F_q4* divide q^6 - 1 and q^4 - 1, which both divide
  (q^12 - 1) / r, so the final exponentiation sends all of them to 1: they are dropped.
* The G2 walk runs on the twist E'(F_q2) in affine coordinates. The twist is a group
  isomorphism and a line value only depends on the affine points, so with slope l' and
  intercept m' on the twist the line at P = (x_P, y_P) is  -y_P + l' x_P w + m' w^3  in
  py_ecc's basis of F_q12 = F_q[w] / (w^12 - 18 w^6 + 82), where u = w^6 - 9: a sparse element.
* The Frobenius x -> x^(q^k) is F_q-linear, so it is a 12x12 matrix over F_q computed once.
  The final exponent (q^12 - 1)/r = (q^6 - 1)(q^2 + 1) * d splits into an easy part (two
  Frobenius maps and one inversion) and d = (q^4 - q^2 + 1)/r written in base q,
  f^d = prod_i frob_i(f)^(d_i), evaluated with one shared squaring chain.

Input checks, all before any pairing (arkworks semantics): a malformed verifying key or a
wrong number of public inputs raises `VerificationInputError`; a malformed proof (coordinate
>= q, point at infinity, point off the curve, B outside the r-order subgroup) or a public
input outside [0, r) makes verification return False, never reduce modulo r. A, B or C at
infinity is refused although the pairing equation may hold for it: arkworks (groth16py)
and the rendered Solidity verifier refuse it too (the EVM precompiles alone would take the
all-zero encoding), and an honest proof never has one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import add, b2, is_inf, is_on_curve, multiply, normalize

from circuits.errors import VerificationInputError
from circuits.field import Q, R
from circuits.groth16.data import G1, G2, PROOF_BYTES, Proof, VerifyingKey
from circuits.groth16.pairing import (
    ONE12,
    Lines,
    final_exponentiation,
    frobenius,
    g2_lines,
    multi_miller_loop,
)

__all__ = [
    "PreparedVerifyingKey",
    "final_exponentiation",
    "frobenius",
    "g2_lines",
    "multi_miller_loop",
    "prepare",
    "proof_defect",
    "verify",
    "verify_bytes",
]


def _g1_defect(p: G1) -> str | None:
    """Why p is not a valid G1 point (cofactor 1: on the curve means in the group), or None."""
    x, y = p
    if not (0 <= x < Q and 0 <= y < Q):
        return "a coordinate is not in [0, q)"
    if x == 0 and y == 0:
        return "the point at infinity"
    if (y * y - x * x * x - 3) % Q != 0:
        return "not on the curve y^2 = x^3 + 3"
    return None


def _g2_defect(p: G2) -> str | None:
    """Why p is not in G2 (on the twist AND in the r-order subgroup: cofactor != 1), or None."""
    coords = (*p[0], *p[1])
    if not all(0 <= c < Q for c in coords):
        return "a coordinate is not in [0, q)"
    if not any(coords):
        return "the point at infinity"
    point = (FQ2(list(p[0])), FQ2(list(p[1])), FQ2.one())
    if not is_on_curve(point, b2):
        return "not on the twist y^2 = x^3 + 3/(9+u)"
    if not is_inf(multiply(point, R)):
        return "not in the r-order subgroup (r * P != O)"
    return None


def proof_defect(proof: Proof) -> str | None:
    """Why `proof` is malformed (naming the element), or None if it is well formed."""
    for name, defect in (
        ("A", _g1_defect(proof.a)),
        ("B", _g2_defect(proof.b)),
        ("C", _g1_defect(proof.c)),
    ):
        if defect is not None:
            return f"proof element {name}: {defect}"
    return None


def _check_key(vk: VerifyingKey) -> None:
    if not vk.ic:
        raise VerificationInputError("verifying key: IC is empty (it needs n_public + 1 points)")
    g1 = [("alpha1", vk.alpha1), *((f"ic[{i}]", p) for i, p in enumerate(vk.ic))]
    g2 = [("beta2", vk.beta2), ("gamma2", vk.gamma2), ("delta2", vk.delta2)]
    for name, defect in [(n, _g1_defect(p)) for n, p in g1] + [(n, _g2_defect(p)) for n, p in g2]:
        if defect is not None:
            raise VerificationInputError(f"verifying key element {name}: {defect}")


def _vk_x(ic: tuple[G1, ...], inputs: Sequence[int]) -> G1 | None:
    """IC_0 + sum x_i IC_i in affine coordinates, None for the point at infinity."""
    acc = (FQ(ic[0][0]), FQ(ic[0][1]), FQ.one())
    for x, (px, py) in zip(inputs, ic[1:], strict=True):
        if x:
            acc = add(acc, multiply((FQ(px), FQ(py), FQ.one()), x))
    if is_inf(acc):
        return None
    x_, y_ = normalize(acc)
    return (int(x_), int(y_))


@dataclass(frozen=True)
class PreparedVerifyingKey:
    """A validated verifying key with its key-only pairing work done (see `prepare`).

    * ``alpha_beta`` = Miller loop value of (alpha, beta), before the final exponentiation;
    * ``gamma_lines`` / ``delta_lines`` = every line of the Miller loop of gamma / delta.
    """

    vk: VerifyingKey
    alpha_beta: FQ12
    gamma_lines: Lines
    delta_lines: Lines

    def verify(self, public_inputs: Sequence[int], proof: Proof) -> bool:
        """True iff `proof` is valid for `public_inputs`; False for any malformed proof or an
        input outside [0, r). Raises `VerificationInputError` for a wrong input count."""
        self._check_count(public_inputs)
        if not all(0 <= x < R for x in public_inputs) or proof_defect(proof) is not None:
            return False
        neg_a = (proof.a[0], (Q - proof.a[1]) % Q)
        pairs = [(g2_lines(proof.b), neg_a), (self.delta_lines, proof.c)]
        vk_x = _vk_x(self.vk.ic, public_inputs)
        if vk_x is not None:  # e(O, gamma) = 1
            pairs.append((self.gamma_lines, vk_x))
        f = self.alpha_beta * multi_miller_loop(pairs)
        return bool(final_exponentiation(f) == ONE12)

    def verify_bytes(self, public_inputs: Sequence[int], proof_bytes: bytes) -> bool:
        """`verify` for a proof in the 256-byte EVM layout; any other length is rejected."""
        self._check_count(public_inputs)
        if len(proof_bytes) != PROOF_BYTES:
            return False
        return self.verify(public_inputs, Proof.from_bytes(proof_bytes))

    def _check_count(self, public_inputs: Sequence[int]) -> None:
        n = self.vk.n_public
        if len(public_inputs) != n:
            raise VerificationInputError(
                f"expected {n} public input(s) (the key has {n + 1} IC points), "
                f"got {len(public_inputs)}"
            )


def prepare(vk: VerifyingKey) -> PreparedVerifyingKey:
    """Validate `vk` (raising `VerificationInputError` naming the bad element) and precompute
    everything that depends on it only."""
    _check_key(vk)
    return PreparedVerifyingKey(
        vk=vk,
        alpha_beta=multi_miller_loop([(g2_lines(vk.beta2), vk.alpha1)]),
        gamma_lines=g2_lines(vk.gamma2),
        delta_lines=g2_lines(vk.delta2),
    )


# Keys are immutable and hashable: one-shot calls under the same key share the preparation.
_prepared = functools.lru_cache(maxsize=16)(prepare)


def verify(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof) -> bool:
    """One-shot verification (the key's preparation is cached per key)."""
    return _prepared(vk).verify(public_inputs, proof)


def verify_bytes(vk: VerifyingKey, public_inputs: Sequence[int], proof_bytes: bytes) -> bool:
    """One-shot verification of a proof in the 256-byte EVM layout."""
    return _prepared(vk).verify_bytes(public_inputs, proof_bytes)
