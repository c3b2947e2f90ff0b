"""Malicious witnesses for the locate gadgets (public and committed thresholds): each
rewrites the step vector the "locate_steps" hint produced and replays the rest."""

from __future__ import annotations

from circuits.field import R
from circuits.program import Circuit
from circuits.testing import Tamper, hint_outputs, replay


def shift_step(delta: int) -> Tamper:
    """Move the step of the bit vector by `delta` positions (a monotone but wrong vector)."""

    def tamper(w: list[int], c: Circuit) -> list[int]:
        (bits,) = hint_outputs(c, "locate_steps")
        vals = [w[b] for b in bits]
        k = vals.index(1) if 1 in vals else len(vals)
        k2 = min(max(k + delta, 0), len(vals))
        return replay(c, w, {b: int(i >= k2) for i, b in enumerate(bits)})

    return tamper


def flip(i: int) -> Tamper:
    def tamper(w: list[int], c: Circuit) -> list[int]:
        (bits,) = hint_outputs(c, "locate_steps")
        return replay(c, w, {bits[i]: 1 - w[bits[i]]})

    return tamper


def non_boolean(w: list[int], c: Circuit) -> list[int]:
    (bits,) = hint_outputs(c, "locate_steps")
    return replay(c, w, {bits[1]: 2, bits[2]: R - 1})
