"""Groth16 verification over BN254 in pure Python, independent of every proving backend.

A proof (A, B, C) for public inputs x_1..x_l is accepted iff

    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) = 1,   vk_x = IC_0 + sum x_i IC_i,

evaluated as the product of four optimal-ate Miller loops (py_ecc's loop: the same
``pseudo_binary_encoding`` and the same two Frobenius lines) and ONE final exponentiation.
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
from py_ecc.optimized_bn128.optimized_pairing import pseudo_binary_encoding

from circuits.errors import VerificationInputError
from circuits.field import Q, R
from circuits.groth16.data import G1, G2, PROOF_BYTES, Proof, VerifyingKey

#: A line -y + l' x w + m' w^3 as (a, b, c, d): slope l' = a + b w^6, intercept m' = c + d w^6
#: (F_q2 written in py_ecc's basis of F_q12, where u = w^6 - 9).
Line = tuple[int, int, int, int]
#: The lines of one G2 point, one per slot of `SQUARE_BEFORE`; None for a line in F_q6.
Lines = tuple[Line | None, ...]
_Affine2 = tuple[FQ2, FQ2]

#: One entry per line of the Miller loop: whether f is squared before that line. A doubling
#: line per digit of py_ecc's encoding (top digit first), an addition line after each
#: non-zero digit, then the lines through pi(Q) and -pi^2(Q).
SQUARE_BEFORE: tuple[bool, ...] = (
    *(s for v in pseudo_binary_encoding[63::-1] for s in ((True, False) if v else (True,))),
    False,
    False,
)

_XI = FQ2([9, 1])  # w^6 in F_q12: the twist is y^2 = x^3 + 3 / xi
_PSI_X = _XI ** ((Q - 1) // 3)
_PSI_Y = _XI ** ((Q - 1) // 2)
_HARD_DIGITS: tuple[int, ...] = tuple((Q**4 - Q**2 + 1) // R // Q**i % Q for i in range(4))
_ONE12 = FQ12.one()


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


def _line(slope: FQ2, x: FQ2, y: FQ2) -> Line:
    """The line of slope `slope` through (x, y) on the twist, as sparse F_q12 coefficients."""
    m = y - slope * x
    (l0, l1), (m0, m1) = slope.coeffs, m.coeffs
    return ((int(l0) - 9 * int(l1)) % Q, int(l1), (int(m0) - 9 * int(m1)) % Q, int(m1))


def _inv2(a: FQ2) -> FQ2:
    """1/a in F_q2 = F_q[u]/(u^2 + 1): conj(a) / norm(a), one inversion in F_q."""
    a0, a1 = (int(c) for c in a.coeffs)
    n = pow(a0 * a0 + a1 * a1, -1, Q)
    return FQ2([a0 * n, -a1 * n])


def _step(t: _Affine2, s: _Affine2) -> tuple[Line | None, _Affine2 | None]:
    """Line through t and s (tangent if equal) and t + s; (None, None) if the line is vertical."""
    (x1, y1), (x2, y2) = t, s
    if x1 == x2 and y1 == y2:
        if y1 == FQ2.zero():
            return None, None
        slope = 3 * x1 * x1 * _inv2(2 * y1)
    elif x1 == x2:
        return None, None
    else:
        slope = (y2 - y1) * _inv2(x2 - x1)
    x3 = slope * slope - x1 - x2
    return _line(slope, x1, y1), (x3, slope * (x1 - x3) - y1)


def _conj(a: FQ2) -> FQ2:
    """a^q in F_q2: u^q = -u because q = 3 (mod 4)."""
    return FQ2([int(a.coeffs[0]), -int(a.coeffs[1])])


def _psi(p: _Affine2) -> _Affine2:
    """Untwist, q-power Frobenius, twist: pi(Q) of the Miller loop, on the twist."""
    x, y = p
    return (_conj(x) * _PSI_X, _conj(y) * _PSI_Y)


def g2_lines(point: G2) -> Lines:
    """Every line of the Miller loop of `point` (a validated G2 element), in slot order."""
    base: _Affine2 = (FQ2(list(point[0])), FQ2(list(point[1])))
    neg_base: _Affine2 = (base[0], -base[1])
    q1 = _psi(base)
    q2 = _psi(q1)
    addends = iter([base if v == 1 else neg_base for v in pseudo_binary_encoding[63::-1] if v])
    t: _Affine2 | None = base
    lines: list[Line | None] = []
    for square in SQUARE_BEFORE[:-2]:
        assert t is not None, "an r-order point never reaches O inside the loop"
        line, t = _step(t, t) if square else _step(t, next(addends))
        lines.append(line)
    assert t is not None
    line, t = _step(t, q1)
    assert t is not None
    lines.append(line)
    lines.append(_step(t, (q2[0], -q2[1]))[0])
    return tuple(lines)


def _mul_by_line(f: FQ12, line: Line, px: int, py: int) -> FQ12:
    """f * (-py + px l' w + m' w^3): 5 non-zero coefficients, then reduce w^12 = 18w^6 - 82."""
    l0, l1, m0, m1 = line
    sparse = ((0, -py), (1, px * l0), (7, px * l1), (3, m0), (9, m1))
    coeffs = [int(c) for c in f.coeffs]
    b = [0] * 21
    for j, s in sparse:
        s %= Q
        for i, c in enumerate(coeffs):
            b[i + j] += c * s
    for k in range(20, 11, -1):
        top = b[k]
        b[k - 6] += 18 * top
        b[k - 12] -= 82 * top
    return FQ12(b[:12])


def multi_miller_loop(pairs: Sequence[tuple[Lines, G1]]) -> FQ12:
    """Product of the Miller loops of (G2 lines, G1 point) pairs, denominators dropped."""
    f = _ONE12
    for k, square in enumerate(SQUARE_BEFORE):
        if square and k:
            f = f * f
        for lines, (px, py) in pairs:
            line = lines[k]
            if line is not None:
                f = _mul_by_line(f, line, px, py)
    return f


@functools.cache
def _frobenius_rows(k: int) -> tuple[tuple[int, ...], ...]:
    """Row i is (w^i)^(q^k): the matrix of the F_q-linear map x -> x^(q^k)."""
    if k == 1:
        wq = FQ12([0, 1] + [0] * 10) ** Q
        rows, acc = [], _ONE12
        for _ in range(12):
            rows.append(tuple(int(c) for c in acc.coeffs))
            acc = acc * wq
        return tuple(rows)
    return tuple(
        tuple(int(c) for c in frobenius(FQ12(list(r)), 1).coeffs) for r in _frobenius_rows(k - 1)
    )


def frobenius(f: FQ12, k: int) -> FQ12:
    """f^(q^k), as a matrix product over F_q."""
    out = [0] * 12
    for c, row in zip(f.coeffs, _frobenius_rows(k), strict=True):
        if c:
            c = int(c)
            for j, m in enumerate(row):
                out[j] += c * m
    return FQ12(out)


def final_exponentiation(f: FQ12) -> FQ12:
    """f^((q^12 - 1) / r), equal to py_ecc's ``final_exponentiate`` (f must be non-zero)."""
    f = frobenius(f, 6) * f.inv()
    f = frobenius(f, 2) * f
    bases = [f, frobenius(f, 1), frobenius(f, 2), frobenius(f, 3)]
    table = [_ONE12] * 16
    for mask in range(1, 16):
        low = (mask & -mask).bit_length() - 1
        table[mask] = table[mask & (mask - 1)] * bases[low]
    acc = _ONE12
    for bit in range(max(d.bit_length() for d in _HARD_DIGITS) - 1, -1, -1):
        acc = acc * acc
        mask = sum(((d >> bit) & 1) << i for i, d in enumerate(_HARD_DIGITS))
        if mask:
            acc = acc * table[mask]
    return acc


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
        return bool(final_exponentiation(f) == _ONE12)

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
