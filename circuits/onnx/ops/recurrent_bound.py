"""A certified bound on a recurrent layer's output error, propagated through the steps.

Each step's error enters the next through the recurrent weights, so the bound is a
recurrence over the steps, in real units, of the largest error of any element of the
hidden state e_h and (LSTM) the cell state e_c, with these sources:

* a gate's pre-activation W x + R h + b: max_j sum_k |W_jk| e_x + max_j sum_k |R_jk| e_h
  from the inputs and the previous state, plus the weights' own quantization
  delta_w = 2^-(weight_scale+1) times sum |x| + sum |h| + 2 (the two biases);
* an activation: Lipschitz constant (1/4 for Sigmoid, 1 for Tanh and Relu) times that,
  plus the approximation's certified error, which already holds the flooring of its
  input (the largest recorded for that function in this layer);
* a product a b of two computed values: |a'| e_b + |b| e_a, with |a'| <= |a| + e_a;
* every rescale to activation scale (each settled state, each product brought back):
  half a step, rho = 2^-(act_scale+1).

The true states are bounded by the cell's algebra (|h| <= 1 for LSTM and GRU, |c_t| <=
|c_(t-1)| + 1), a Relu RNN's by the same recurrence run on magnitudes. e_x is the input
quantization (2^-(input_scale+1)): the bound is for a layer reading model inputs; an
upstream layer's error would add max sum |W| times it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_LIPSCHITZ = {"Sigmoid": 0.25, "Tanh": 1.0, "Relu": 1.0}


@dataclass(frozen=True)
class Setting:
    kind: str
    acts: list[str]  # this direction's activation names
    eps: dict[str, float]  # certified error per activation name
    rho: float  # half a step at activation scale
    delta_w: float  # half a step at weight scale
    e_x: float  # input quantization
    x_max: float  # largest |x| element
    lbr: int


def _norms(m: np.ndarray, gates: int, hidden: int) -> list[float]:
    """max row sum of |m| per gate block."""
    a = np.abs(m).reshape(gates, hidden, -1).sum(axis=2)
    return [float(v) for v in a.max(axis=1)]


def layer_bound(
    st: Setting, w: Any, r: Any, b: Any, p: Any, steps: int, h0: tuple[float, float],
    c0: tuple[float, float],
) -> tuple[float, float]:  # fmt: skip
    """(max over steps of e_h, final e_c) for one direction; h0 / c0 = (bound, error)."""
    hidden = r.shape[-1]
    gates = r.shape[0] // hidden
    a, bn = _norms(w, gates, hidden), _norms(r, gates, hidden)
    base = st.delta_w * (w.shape[1] * st.x_max + 2)
    b_max = float(np.abs(np.asarray(b)).reshape(2, -1).sum(axis=0).max())
    peep = float(np.abs(p).max()) if p is not None and np.any(p) else 0.0
    (h_max, e_h), (c_max, e_c) = h0, c0
    worst = e_h
    for _ in range(steps):

        def pre(g: int, e_state: float, h_mag: float = h_max) -> float:
            return float(a[g] * st.e_x + bn[g] * e_state + base + st.delta_w * hidden * h_mag)

        e_h, e_c, h_next, c_max = _step(st, pre, e_h, e_c, h_max, c_max, peep, bn)
        # a Relu RNN's state is not squashed: |h'| <= sum |W| |x| + sum |R| |h| + |b|
        relu = h_next < 0
        h_max = a[0] * st.x_max + bn[0] * h_max + b_max if relu else h_next
        worst = max(worst, e_h)
    return worst, e_c


#: The width of a squashing activation's range: no output error can exceed it (plus the
#: approximation's overshoot on both sides), however large the input error.
_WIDTH = {"Sigmoid": 1.0, "Tanh": 2.0}


def _act(st: Setting, k: int, e_in: float) -> float:
    name = st.acts[k]
    eps = st.eps.get(name, st.rho)
    out = _LIPSCHITZ[name] * e_in + eps
    return min(out, _WIDTH[name] + 2 * eps) if name in _WIDTH else out


def _step(
    st: Setting, pre: Any, e_h: float, e_c: float, h_max: float, c_max: float, peep: float,
    bn: list[float],
) -> tuple[float, float, float, float]:  # fmt: skip
    """(e_h, e_c, the next |h| bound or -1 for a Relu RNN's, the next |c| bound)."""
    rho = st.rho
    if st.kind == "LSTM":  # gates i, o, f, c; acts (f, g, h)
        e_peep = peep * e_c + st.delta_w * c_max
        e_i = _act(st, 0, pre(0, e_h) + e_peep)
        e_f = _act(st, 0, pre(2, e_h) + e_peep)
        e_g = _act(st, 1, pre(3, e_h))
        c_new = c_max + 1.0
        e_c2 = (1 + e_f) * e_c + c_max * e_f + (1 + e_i) * e_g + e_i + 2 * rho
        e_o = _act(st, 0, pre(1, e_h) + peep * e_c2 + st.delta_w * c_new)
        e_th = _act(st, 2, e_c2)
        e_new = min((1 + e_o) * e_th + e_o, 2 * (1 + e_o)) + 2 * rho  # |h|, |h'| <= 1 + e
        return e_new, e_c2, 1.0, c_new
    if st.kind == "GRU":  # gates z, r, h; acts (f, g)
        e_z = _act(st, 0, pre(0, e_h))
        e_r = _act(st, 0, pre(1, e_h))
        if st.lbr:
            rec = bn[2] * e_h + st.delta_w * (h_max * len(bn) + 1)
            e_cand = pre(2, 0.0, 0.0) + (1 + e_r) * rec + (bn[2] * h_max + 1) * e_r + rho
        else:
            e_rh = (1 + e_r) * e_h + h_max * e_r + rho
            e_cand = pre(2, e_rh)
        e_hc = _act(st, 1, e_cand)
        # (1 - z') hc' + z' h' - ((1 - z) hc + z h): a convex combination of the two errors
        # (z' within eps of [0, 1]) plus |h - hc| <= 2 times the error of z
        e_new = (1 + 2 * st.eps.get(st.acts[0], 0.0)) * max(e_hc, e_h) + 2 * e_z + 2 * rho
        return e_new, 0.0, 1.0, 0.0
    e_new = _act(st, 0, pre(0, e_h)) + rho  # RNN
    return e_new, 0.0, -1.0 if st.acts[0] == "Relu" else 1.0, 0.0


def activation_errors(records: list[dict[str, Any]]) -> dict[str, float]:
    """The largest certified error per activation among a layer's records."""
    out: dict[str, float] = {}
    for rec in records:
        name = {"sigmoid": "Sigmoid", "tanh": "Tanh"}.get(str(rec.get("function")))
        if name:
            out[name] = max(out.get(name, 0.0), float(rec["max_abs_error"]))
    return out


def half_step(scale: int) -> float:
    return math.ldexp(1.0, -scale - 1)


def _state(init: Any, d: int, rho: float) -> tuple[float, float]:
    """(|state| bound, error) of a direction's initial state: 0 when absent; a constant
    is quantized at activation scale; a computed one counts with its static bound."""
    if init is None:
        return 0.0, 0.0
    if hasattr(init, "bound"):
        return math.ldexp(float(init.bound), -int(init.scale)), rho
    return float(np.abs(np.asarray(init, dtype=np.float64)[d]).max()), rho


def record(
    ctx: Any, kind: str, x: Any, weights: tuple[Any, Any, Any, Any], names: list[str],
    revs: list[bool], inits: tuple[Any, Any], lbr: int, records: list[dict[str, Any]],
) -> float:  # fmt: skip
    """The layer's certified output error (all outputs, all directions)."""
    cfg = ctx.config
    w, r, b, p = weights
    per = len(names) // len(revs)
    eps = activation_errors(records)
    worst = 0.0
    for d in range(len(revs)):
        st = Setting(
            kind, names[d * per : (d + 1) * per], eps, half_step(cfg.act_scale),
            half_step(cfg.weight_scale), half_step(cfg.input_scale),
            math.ldexp(float(x.bound), -int(x.scale)), lbr,
        )  # fmt: skip
        e_h, e_c = layer_bound(
            st, w[d], r[d], b[d], None if p is None else p[d], x.shape[0],
            _state(inits[0], d, st.rho), _state(inits[1], d, st.rho),
        )  # fmt: skip
        worst = max(worst, e_h, e_c)
    return worst
