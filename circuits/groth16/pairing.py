"""The optimal-ate pairing of BN254 as the Groth16 verifier uses it, in pure Python.

Line functions of G2 points (`g2_lines`, computed once per key point), a multi-Miller loop
sharing one chain of squarings between pairs, the Frobenius maps and the final
exponentiation; field arithmetic is py_ecc's ``optimized_bn128``. Why the shortcuts keep
the result exact is explained in `circuits.groth16.verifier`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_pairing import pseudo_binary_encoding

from circuits.field import Q, R
from circuits.groth16.data import G1, G2

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
ONE12 = FQ12.one()


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
    f = ONE12
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
        rows, acc = [], ONE12
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
    table = [ONE12] * 16
    for mask in range(1, 16):
        low = (mask & -mask).bit_length() - 1
        table[mask] = table[mask & (mask - 1)] * bases[low]
    acc = ONE12
    for bit in range(max(d.bit_length() for d in _HARD_DIGITS) - 1, -1, -1):
        acc = acc * acc
        mask = sum(((d >> bit) & 1) << i for i, d in enumerate(_HARD_DIGITS))
        if mask:
            acc = acc * table[mask]
    return acc
