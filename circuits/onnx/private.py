"""The private parts of a statement: commitments to inputs, outputs and weights, claims.

Called by the graph walker (`circuits.onnx.compiler`) once the values are range-checked:
model inputs to ``input_bits``, outputs to ``output_bits`` (their static bound), weights
here. Costs: a commitment to w packed words is `commit_words_constraints(w)`; a private
weight adds its range check (bits + 1) and, in the layer that uses it, one multiplication
per use; a claim costs ``output_bits + 2`` (one comparison) and one constraint for its
public threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from circuits.builder import Builder
from circuits.errors import ModelError
from circuits.gadgets.bits import assert_signed
from circuits.gadgets.commitment import commit_words, pack_words
from circuits.gadgets.compare import less_or_equal, less_than
from circuits.lc import LinearCombination
from circuits.onnx.context import PrivateTensor
from circuits.onnx.quant import QuantConfig, quantize, signed_limit
from circuits.onnx.statement import Packing
from circuits.onnx.tensor import Value
from circuits.onnx.visibility import Claim

if TYPE_CHECKING:
    from circuits.onnx.model import IOSpec


def statement_words(
    b: Builder, mode: str, part: str, values: list[Value], packing: Packing
) -> list[Value]:
    """The packed words of range-checked values, or their salted commitment (private)."""
    if mode == "public":
        return packing.pack_lcs(values)
    words = pack_words(list(values), packing.bits)
    return [commit_words(b, words, b.private_input(f"salt:{part}"))]


def commit_weights(b: Builder, private: tuple[PrivateTensor, ...]) -> LinearCombination:
    """Range-check every private weight, pack each tensor and commit them in order."""
    words: list[LinearCombination] = []
    for t in private:
        for w in t.wires if not t.checked else ():
            assert_signed(b, w, t.bits)
        words.extend(pack_words(list(t.wires), t.bits))
    return commit_words(b, words, b.private_input("salt:weights"))


def claim_words(
    b: Builder, claim: Claim, specs: Sequence[IOSpec], values: Sequence[Value], cfg: QuantConfig
) -> list[Value]:
    """[threshold, result] of `claim` over the (range-checked) output values."""
    at = 0
    for spec in specs:
        if spec.name == claim.output:
            break
        at += spec.size
    else:
        raise ModelError(
            f"claim {claim}: no output {claim.output!r}; the model has {[s.name for s in specs]}"
        )
    if not 0 <= claim.index < spec.size:
        raise ModelError(f"claim {claim}: output {spec.name!r} has {spec.size} element(s)")
    t = int(quantize(np.asarray(claim.threshold), spec.scale))
    if abs(t) > signed_limit(cfg.output_bits):
        raise ModelError(
            f"claim {claim}: the threshold does not fit the outputs' {cfg.output_bits} bits"
        )
    v, n = values[at + claim.index], cfg.output_bits
    if claim.op == "<":
        res = less_than(b, v, t, n)
    elif claim.op == "<=":
        res = less_or_equal(b, v, t, n)
    elif claim.op == ">":
        res = less_than(b, t, v, n)
    else:
        res = less_or_equal(b, t, v, n)
    return [t, res]
