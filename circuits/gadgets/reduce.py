"""Reductions over many values: the maximum, the index of the maximum, and division by a
value computed in the circuit.

Each one asks a hint for its answer and then proves it, so the prover has no choice:

* `max_many`: m >= every x_i (range checks) and m equals one of them (a product of the
  differences is zero in F_r, a field, so some difference is zero); or, for a few values,
  a tournament of `select.max_`.
* `argmax`: a one-hot vector picks v = x_idx; v >= x_j + [j before idx] for every j
  makes idx the first index of the maximum (or the last, with the strict side swapped).
* `div_round`: q with 2a + b = 2bq + r and 0 <= r < 2b, both range-checked, i.e.
  q = round(a / b) (half up) as an integer identity.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.bits import assert_unsigned
from circuits.gadgets.select import max_
from circuits.hints import register_hint
from circuits.lc import LinearCombination

Item = LinearCombination | int


@register_hint("max_of")
def max_of_hint(*xs: int) -> list[int]:
    """The largest of the inputs read as signed integers."""
    return [max(from_field(x) for x in xs) % R]


@register_hint("argmax_onehot")
def argmax_onehot_hint(*xs: int, last: int) -> list[int]:
    """One-hot vector of the first (last != 0: the last) index of the signed maximum."""
    vals = [from_field(x) for x in xs]
    top = max(vals)
    idx = len(vals) - 1 - vals[::-1].index(top) if last else vals.index(top)
    return [int(i == idx) for i in range(len(vals))]


@register_hint("div_round_var")
def div_round_hint(a: int, b: int) -> list[int]:
    """floor((2a + b) / (2b)) for signed a and b > 0 (round half up of a / b); 0 for b <= 0,
    which no witness satisfies."""
    den = from_field(b)
    if den <= 0:  # no witness exists; 0 lets the constraints fail inside the named node
        return [0]
    return [((2 * from_field(a) + den) // (2 * den)) % R]


def _lc(v: Item) -> LinearCombination:
    return v if isinstance(v, LinearCombination) else LinearCombination.constant(v)


def max_tree_cost(count: int, n: int) -> int:
    return (count - 1) * (n + 3)


def max_hint_cost(count: int, n: int) -> int:
    return count * (n + 1) + count - 1


def max_many(api: Builder, xs: Sequence[Item], n: int) -> Item:
    """max(xs) for signed values in [-2^(n-1), 2^(n-1)), 1 <= n <= 251.

    Constraints: the cheaper of a tournament of `max_` (`max_tree_cost`: len - 1 times
    n + 3) and the hint route (`max_hint_cost`: a range check of n bits of m - x_i per
    value, and len - 1 products). An all-constant input costs nothing."""
    if not xs:
        raise BuildError("max_many of no value")
    known = [v for v in xs if isinstance(v, int)]
    if len(known) == len(xs):
        return max(known)
    if len(xs) == 1:
        return xs[0]
    if max_tree_cost(len(xs), n) <= max_hint_cost(len(xs), n):
        with api.gadget("max_tree"):
            return _tree(api, list(xs), n)
    with api.gadget("max_hint"):
        lcs = [_lc(v) for v in xs]
        (m,) = api.hint("max_of", lcs, 1)
        for v in lcs:
            assert_unsigned(api, m - v, n)
        prod = m - lcs[0]
        for v in lcs[1:-1]:
            prod = api.mul(prod, m - v)
        api.assert_mul(prod, m - lcs[-1], 0)
        return m


def _tree(api: Builder, xs: list[Item], n: int) -> Item:
    while len(xs) > 1:
        nxt: list[Item] = []
        for i in range(0, len(xs) - 1, 2):
            a, b = xs[i], xs[i + 1]
            nxt.append(
                max(a, b)
                if isinstance(a, int) and isinstance(b, int)
                else max_(api, _lc(a), _lc(b), n)
            )
        if len(xs) % 2:
            nxt.append(xs[-1])
        xs = nxt
    return xs[0]


def argmax(api: Builder, xs: Sequence[Item], n: int, *, last: bool = False) -> LinearCombination:
    """The index of the maximum of xs (signed values of width n, n <= 251): the first one,
    or the last with `last`. The cost and soundness are `argmax_onehot`'s."""
    if len(xs) <= 1:
        return LinearCombination({})
    onehot, _ = argmax_onehot(api, xs, n, last=last)
    return sum((o * j for j, o in enumerate(onehot)), LinearCombination({}))


def argmax_onehot(
    api: Builder, xs: Sequence[Item], n: int, *, last: bool = False
) -> tuple[list[LinearCombination], LinearCombination]:
    """(o, v): the one-hot vector of the first (or, with `last`, the last) position of the
    maximum of xs (signed values of width n, n <= 251) and the maximum v itself. Any
    constant weighting of o (an index, a flat position in a larger tensor) is then free.

    Constraints: for len = N > 1, N booleans + 1 (one-hot sum) + N products (fewer for
    constant x_j) + N range checks of n bits (n + 1 each). Soundness: the one-hot
    vector makes v = x_idx and idx = sum j o_j; v - x_j - [j strictly before idx] (or
    after, with `last`) is a linear combination proved to lie in [0, 2^n), hence
    v >= x_j with strict inequality on the far side of idx: idx is the first (last)
    position of the maximum and no other one-hot vector satisfies the checks."""
    lcs = [_lc(v) for v in xs]
    if len(lcs) == 1:
        return [LinearCombination.constant(1)], lcs[0]
    with api.gadget("argmax"):
        onehot = api.hint("argmax_onehot", lcs, len(lcs), last=int(last))
        for o in onehot:
            api.assert_bool(o)
        api.assert_equal(sum(onehot, LinearCombination({})), 1)
        v = LinearCombination({})
        for o, x in zip(onehot, lcs, strict=True):
            v = v + api.mul(o, x)
        for j, x in enumerate(lcs):
            strict = onehot[:j] if last else onehot[j + 1 :]
            assert_unsigned(api, v - x - sum(strict, LinearCombination({})), n)
        return list(onehot), v


def div_round(api: Builder, a: Item, b: Item, b_bits: int, q_bits: int) -> LinearCombination:
    """round(a / b) (half up) for 1 <= b < 2^b_bits and a quotient in [0, 2^q_bits).

    Constraints: 1 (q * b) + (b_bits + 2) * 2 (r and 2b - 1 - r in [0, 2^(b_bits+1)))
    + q_bits + 1 (q's range). The remainder r = 2a + b - 2bq is a free combination.
    Soundness: with 0 <= r < 2b, b < 2^b_bits and 0 <= q < 2^q_bits every term is far
    below r / 2, so 2a + b = 2bq + r holds over the integers and q is the rounded
    quotient; a b of 0 has no witness (it would need r >= 0 and r <= -1)."""
    if b_bits + q_bits + 2 > 250:
        raise BuildError(f"div_round: b_bits {b_bits} + q_bits {q_bits} too wide")
    a_lc, b_lc = _lc(a), _lc(b)
    with api.gadget("div_round"):
        (q,) = api.hint("div_round_var", [a_lc, b_lc], 1)
        r = a_lc * 2 + b_lc - api.mul(q, b_lc) * 2
        assert_unsigned(api, r, b_bits + 1)
        assert_unsigned(api, b_lc * 2 - 1 - r, b_bits + 1)
        assert_unsigned(api, q, q_bits)
        return q
