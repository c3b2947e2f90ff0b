"""Evaluate a `circuits.approx.Plan` in constraints: one bit decomposition, a multilinear
selection of the segment's coefficients, Horner, and one rounding.

    y = piecewise(api, plan, x, drop=k)     # x at scale plan.in_scale + k

The input may be finer than the plan's input scale: bringing it to the plan's scale
(floor for a midpoint plan, else round half up) shares the decomposition that splits it
into segment and offset bits, so a nonlinearity after a linear layer pays for one
decomposition, not two.

Soundness, in order of the steps:

* decomposition: ``x + h - 2^k (lo - off)`` (h = 2^(k-1), or 0 for a midpoint plan) is
  split into k low bits (discarded remainder) and n high bits v, all constrained boolean
  and recomposed, so v = floor((x + h) / 2^k) - lo + off exactly (nothing wraps: every
  term is far below r / 2). Without a reachable left tail off = 0 and the decomposition
  also proves floor((x + h) / 2^k) >= lo (for a midpoint plan with lo = 0: x >= 0); with
  one, off = 2^(n-1) and the top bit is [x >= lo].
* domain: the low m bits of v are the offset u = x - lo when x is in the domain; the bits
  between m and the top are all zero exactly then (`is_zero` of their sum).
* selection: every coefficient is an exact multilinear polynomial in the k segment bits
  (the Moebius transform of the table), so booleans select exactly one table row.
* Horner products are exact field products of bounded integers; the rounding is
  `fixed_point.rescale`, which range-checks both remainder and quotient in constraints,
  so the output is round(A / 2^K) and nothing else.
* output: in the domain the polynomial, else the tail, chosen by constrained bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from circuits.approx import Plan, make_plan
from circuits.approx.exact import ln2_multiple
from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.gadgets.bits import from_bits, to_bits
from circuits.gadgets.compare import is_zero
from circuits.gadgets.fixed_point import rescale
from circuits.hints import register_hint
from circuits.lc import LinearCombination


def input_range(bound: int, drop: int, midpoint: bool) -> tuple[int, int]:
    """Range of the plan input for integers v in [-bound, bound] at a scale `drop` bits
    finer: floor(v / 2^drop) for a midpoint plan, else v rounded half up."""
    half = 0 if midpoint else (1 << drop) >> 1
    return (-bound + half) >> drop, (bound + half) >> drop


def signed_width(lo: int, hi: int) -> int:
    """Smallest n with [lo, hi] inside [-2^(n-1), 2^(n-1))."""
    return max((-lo - 1).bit_length(), hi.bit_length()) + 1


@dataclass(frozen=True)
class Decomposed:
    """The input split for a plan: domain offset bits, the rounded input (a linear
    combination), and the indicators of where it lies (``inside`` / ``below`` / ``above``,
    linear combinations over bits)."""

    u_bits: list[LinearCombination]
    q: LinearCombination
    inside: LinearCombination
    below: LinearCombination
    above: LinearCombination


def decompose(api: Builder, plan: Plan, x: LinearCombination, drop: int = 0) -> Decomposed:
    """Round x (scale in_scale + drop) to the plan's scale and split it (see module doc).

    Constraints: drop + n + 1 for the decomposition, where n covers the plan's calibrated
    range; + 2 (`is_zero`) when the right tail is reachable; + 1 when both tails are."""
    m, lo = plan.m, plan.lo
    signed = plan.below is not None
    if signed:
        n = max(m + 1, (lo - plan.x_min).bit_length() + 1, (plan.x_max - lo).bit_length() + 1)
        off = 1 << (n - 1)
    else:
        n, off = max(m, (plan.x_max - lo).bit_length(), 1), 0
    half = 0 if plan.midpoint else (1 << drop) >> 1
    with api.gadget("decompose"):
        bits = to_bits(api, x + half - ((lo - off) << drop), drop + n)[drop:]
        q = from_bits(bits) + (lo - off)
        top = n - 1 if signed else n
        high = from_bits(bits[m:top])
        zero = is_zero(api, high) if plan.above is not None else api.one
        if signed:
            sign = bits[n - 1]
            inside = api.mul(sign, zero) if plan.above is not None else sign
            return Decomposed(bits[:m], q, inside, 1 - sign, sign - inside)
        return Decomposed(bits[:m], q, zero, LinearCombination({}), 1 - zero)


def monomials(api: Builder, bits: Sequence[LinearCombination]) -> list[LinearCombination]:
    """prod_{i in S} bits[i] for every subset S (index = bit mask of S).

    Constraints: 2^k - k - 1 for k bits (the singletons and the empty product are free)."""
    out = [api.one]
    for b in bits:
        out += [api.mul(mono, b) for mono in out]
    return out


def select_table(monos: Sequence[LinearCombination], column: Sequence[int]) -> LinearCombination:
    """sum_S a_S mono_S with a the Moebius transform of `column`, so that the result equals
    column[i] whenever the bits encode i. Free (a linear combination)."""
    a = [int(v) for v in column]
    step = 1
    while step < len(a):
        for mask in range(len(a)):
            if mask & step:
                a[mask] -= a[mask ^ step]
        step <<= 1
    out = LinearCombination({})
    for coef, mono in zip(a, monos, strict=True):
        if coef:
            out = out + mono * coef
    return out


def polynomial(
    api: Builder,
    plan: Plan,
    u_bits: Sequence[LinearCombination],
    addend: LinearCombination | None = None,
    addend_range: tuple[int, int] = (0, 0),
) -> LinearCombination:
    """round(2^s_out p_seg(t / 2^tb) + addend / 2^K) for domain offset bits u_bits.

    `addend` joins the accumulator (scale 2^(K + s_out)) before the single rounding; it
    lies in `addend_range`, which widens the output range check (`output_range`).
    Constraints: 2^k - k - 1 (selection) + d Horner products (d - 1 when k = 0: the first
    is by a constant) + K + q_bits + 1 (rounding)."""
    if len(u_bits) != plan.m:
        raise BuildError(f"{plan.func}: {len(u_bits)} offset bits for a domain of 2^{plan.m}")
    tb, d = plan.t_bits, plan.degree
    with api.gadget("select"):
        monos = monomials(api, list(u_bits[tb:]))
        coefs = [select_table(monos, [row[j] for row in plan.coeffs]) for j in range(d + 1)]
    t = from_bits(u_bits[:tb])
    acc = coefs[d]
    with api.gadget("horner"):
        for j in range(d - 1, -1, -1):
            acc = api.mul(acc, t) + coefs[j] * (1 << (tb * (d - j)))
    if addend is not None:
        acc = acc + addend
    k = plan.shift
    if k == 0:
        return acc
    with api.gadget("round"):
        return rescale(
            api, acc + (1 << (k - 1)), k, signed_width(*output_range(plan, addend_range))
        )


def output_range(plan: Plan, addend_range: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """Range of `polynomial`'s output over every domain offset, with an addend in range."""
    k = plan.shift
    if addend_range == (0, 0):
        return plan.y_min, plan.y_max
    return plan.y_min + (addend_range[0] >> k) - 1, plan.y_max + (addend_range[1] >> k) + 1


def piecewise(api: Builder, plan: Plan, x: LinearCombination, drop: int = 0) -> LinearCombination:
    """plan's function of x (an integer at scale plan.in_scale + drop, within the plan's
    calibrated range once rounded), at scale plan.out_scale. See the module docstring;
    `piecewise_cost` gives the exact constraint count."""
    with api.gadget(plan.func):
        dec = decompose(api, plan, x, drop)
        y_in = polynomial(api, plan, dec.u_bits)
        if dec.inside.is_constant():
            return y_in
        rest = LinearCombination({})
        for ind, tail in ((dec.below, plan.below), (dec.above, plan.above)):
            if tail is not None:
                value = dec.q * tail[0] + tail[1]
                rest = rest + (api.mul(ind, value) if tail[0] else ind * tail[1])
        with api.gadget("tails"):
            return rest + api.mul(dec.inside, y_in)


def output_bound(plan: Plan) -> int:
    """Static bound on |piecewise(plan, x)| over the plan's calibrated range."""
    b = max(abs(plan.y_min), abs(plan.y_max))
    for tail in (plan.below, plan.above):
        if tail is not None:
            ends = (plan.x_min, plan.x_max)
            b = max(b, *(abs(tail[0] * e + tail[1]) for e in ends))
    return b


def piecewise_cost(plan: Plan, drop: int = 0) -> int:
    """Exact number of constraints `piecewise` emits for a non-constant input."""
    m, k, d = plan.m, plan.seg_bits, plan.degree
    signed = plan.below is not None
    if signed:
        n = max(
            m + 1, (plan.lo - plan.x_min).bit_length() + 1, (plan.x_max - plan.lo).bit_length() + 1
        )
    else:
        n = max(m, (plan.x_max - plan.lo).bit_length(), 1)
    cost = drop + n + 1
    if plan.above is not None:
        cost += 2 + (1 if signed else 0)
    cost += (1 << k) - k - 1
    if d:
        cost += d if k else d - 1
        cost += plan.shift + signed_width(plan.y_min, plan.y_max) + 1
    if plan.below is not None or plan.above is not None:
        cost += 1 + sum(1 for tail in (plan.below, plan.above) if tail is not None and tail[0])
    return cost


@register_hint("msb_onehot")
def msb_onehot_hint(x: int, *, lo: int, count: int) -> list[int]:
    """One-hot vector over positions lo .. lo + count - 1 of the top bit of x (x >= 1)."""
    j = x.bit_length() - 1 - lo
    if not 0 <= j < count:
        raise ValueError(f"the top bit of {x} is outside bits {lo}..{lo + count - 1}")
    return [int(i == j) for i in range(count)]


@dataclass(frozen=True)
class LogResult:
    """round(2^out_scale ln(s / 2^s_scale)) up to `error` (real units); |value| <= bound."""

    value: LinearCombination
    error: float
    bound: int
    plan: Plan


def log_scaled(
    api: Builder,
    s: LinearCombination,
    s_scale: int,
    s_min: int,
    s_max: int,
    out_scale: int,
    guard: int,
) -> LogResult:
    """ln(s / 2^s_scale) at `out_scale` for an integer s in [s_min, s_max], s_min >= 2.

    Range reduction by the top bit: a one-hot vector o over the possible top-bit positions
    j gives M = s 2^(J - j) (J the top position of s_max), and the decomposition of
    M - 2^J into J bits proves 2^J <= M < 2^(J+1), i.e. j = floor(log2 s): any other
    choice leaves M outside that range. Then ln s = ln(M / 2^J) + (j - s_scale) ln 2: the
    top bits of the mantissa feed a log1p plan, and the (j - s_scale) ln 2 term joins its
    accumulator before the single rounding. Constraints: count + 1 (one-hot), 1 (M),
    J + 1 (mantissa bits), and `polynomial`'s."""
    if s_min < 2 or s_max < s_min:
        raise BuildError(f"log_scaled: bad range [{s_min}, {s_max}]")
    j_lo, top = s_min.bit_length() - 1, s_max.bit_length() - 1
    count = top - j_lo + 1
    fb = min(top, out_scale + guard + 1)
    drop = top - fb
    plan = make_plan("log1p", fb, out_scale, 0, (1 << fb) - 1, guard=guard, midpoint=drop > 0)
    k = plan.shift + out_scale
    terms = [ln2_multiple(j_lo + i - s_scale, k) for i in range(count)]
    with api.gadget("log"):
        onehot = api.hint("msb_onehot", [s], count, lo=j_lo, count=count)
        for o in onehot:
            api.assert_bool(o)
        api.assert_equal(sum(onehot, LinearCombination({})), 1)
        mant = api.mul(
            s,
            sum((o * (1 << (top - j_lo - i)) for i, o in enumerate(onehot)), LinearCombination({})),
        )
        bits = to_bits(api, mant - (1 << top), top)
        addend = sum((o * c for o, c in zip(onehot, terms, strict=True)), LinearCombination({}))
        span = (min(terms), max(terms))
        value = polynomial(api, plan, bits[drop:], addend, span)
    error = plan.max_error + (math.ldexp(1.0, -fb - 1) if drop else 0.0) + math.ldexp(1.0, -k - 1)
    lo, hi = output_range(plan, span)
    return LogResult(value, error, max(-lo, hi), plan)
