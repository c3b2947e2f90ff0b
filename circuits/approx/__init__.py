"""Piecewise-polynomial approximations of smooth functions of a fixed-point input, shaped for
R1CS cost, with their maximum error computed rather than guessed.

An input is an integer x standing for x / 2^s_in; the output y stands for y / 2^s_out.

* The *domain* is [lo, lo + 2^m): 2^k equal segments of 2^tb points (tb = m - k). Inside
  segment i, t = x - lo - i 2^tb is a tb-bit integer, so segment index and t are just the
  high and low bits of x - lo: one bit decomposition gives both.
* Per segment a polynomial with integer coefficients C[i][j] (C / 2^P are the real ones)
  is evaluated by Horner without intermediate rounding,

      A = sum_j C[i][j] t^j 2^(tb (d - j)),   y = floor((A + 2^(K-1)) / 2^K),
      K = P + tb d - s_out,

  so y = round(2^s_out p_i(t / 2^tb)) with a single rounding (one range check of K bits).
* Outside the domain the function saturates ("tails"): y = a constant, or y = x for
  softplus. The domain is the calibrated input range cut where a tail is within 2^-guard
  of an output step, so it adapts to each tensor's static bound.

R1CS cost beyond the input decomposition: 2^k - k - 1 products select the coefficients
(multilinear monomials of the k segment bits), d products run Horner, K + q_bits + 1
constraints round. `make_plan` searches the segment count and degree with the fewest
constraints whose computed error meets the target.

The error stored in a plan is the maximum of |y / 2^s_out - f(x / 2^s_in)| over every
integer x of the calibrated range: computed exhaustively from the exact integer pipeline
when the domain has at most 2^22 points, otherwise bounded rigorously per segment (dense
grid plus the second-derivative remainder of linear interpolation). Tails are bounded at
the domain edge, each tail error being monotone in x for the functions defined here.

Modules: `funcs` (the functions and their tails), `fit` (domain, float fitting and the
cost model used to rank candidates), `exact` (the reproducible decimal / fraction
arithmetic behind every number that reaches a circuit), `certify` (the error), `plan`
(`Plan` and the search).
"""

from circuits.approx.funcs import FUNCS, Func, Tail, lipschitz
from circuits.approx.plan import Plan, make_plan

__all__ = ["FUNCS", "Func", "Plan", "Tail", "lipschitz", "make_plan"]
