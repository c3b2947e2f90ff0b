"""A tree ensemble whose thresholds, leaf weights and base values are committed witness
values (private-weights mode); see `ml_tree_circuit` for the public form.

Committed, in this order: per tested feature f (ascending), ``thresholds[f]``: the sorted,
distinct cut points of the feature as the public circuit uses them, each clamped to the
feature's range [lo - 1, hi] (a cut beyond it decides the same way as the end it is clamped
to); then ``leaf_weights`` (every leaf of every tree, depth first, true branch first, each
leaf's (target, weight) pairs in order, at the leaf scale) and ``base_values``.

Cost: per feature, a sortedness proof of its cut vector (`assert_sorted_within`), shared by
all rows; per row and feature, `locate_private` (two products per cut more than `locate`);
per row, one product per leaf weight (indicator * weight) instead of a free sum.

What stays public: the ensemble's shape (trees, nodes, which feature each node tests, its
mode, which leaves vote for which target), the number of distinct cut points per feature
and the rank of each node's threshold among them, the widths (n + 1 bits for thresholds,
the largest leaf weight's width, the largest base value's width).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from circuits.gadgets.locate_private import assert_sorted_within, locate_private
from circuits.gadgets.reduce import max_many
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.ml_tree_circuit import _leaves, _test
from circuits.onnx.ops.ml_tree_ir import Ensemble, Leaf, Node, Split
from circuits.onnx.quant import quantize
from circuits.onnx.tensor import QTensor, Value, as_lc, linear


def _leaf_list(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    return _leaf_list(node.true) + _leaf_list(node.false)


class PrivateEnsemble:
    """The committed wires of one ensemble and the per-row evaluation that uses them."""

    def __init__(
        self, ctx: LoweringContext, ens: Ensemble, s: int, n: int, cuts: Mapping[int, list[int]],
        ls: int,
    ) -> None:  # fmt: skip
        self.ctx, self.ens, self.n = ctx, ens, n
        lo, hi = -(1 << (n - 1)) - 1, (1 << (n - 1)) - 1
        #: feature -> (threshold wires, index of each public cut point among them)
        self.cuts: dict[int, tuple[list[Value], dict[int, int]]] = {}
        for f, cs in sorted(cuts.items()):
            clamped = [min(max(c, lo), hi) for c in cs]
            distinct = sorted(set(clamped))
            t = ctx.private_ints(distinct, s, f"thresholds[{f}]", bits=n + 1, checked=True)
            wires = list(t.values)
            with ctx.gadget("sorted_thresholds"):
                assert_sorted_within(ctx.builder, wires, n)
            where = {c: distinct.index(k) for c, k in zip(cs, clamped, strict=True)}
            self.cuts[f] = (wires, where)
        factor = 1.0 / len(ens.trees) if ens.aggregate == "AVERAGE" else 1.0
        leaves = [leaf for tree in ens.trees for leaf in _leaf_list(tree)]
        values = [int(quantize(w * factor, ls).item()) for leaf in leaves for _, w in leaf.weights]
        self.leaf = ctx.private_ints(values, ls, "leaf_weights")
        #: id(leaf) -> offset of its first weight in ``leaf_weights``
        self.offset: dict[int, int] = {}
        at = 0
        for leaf in leaves:
            self.offset[id(leaf)] = at
            at += len(leaf.weights)
        base = [int(quantize(v, ls).item()) for v in ens.base]
        self.base = ctx.private_ints(base, ls, "base_values") if base else None

    def bits(self, xs: Sequence[Value]) -> dict[int, dict[int, LinearCombination]]:
        """Per feature, [x_f <= c] for each public cut point c, from the located wires."""
        out = {}
        for f, (wires, where) in self.cuts.items():
            located = locate_private(self.ctx.builder, as_lc(xs[f]), wires, self.n)
            out[f] = {c: located[i] for c, i in where.items()}
        return out

    def votes(self, leaves: Sequence[tuple[LinearCombination, Leaf]]) -> dict[int, list[Value]]:
        """Per target, indicator * committed weight for each (indicator, leaf) of one tree."""
        b, wires = self.ctx.builder, self.leaf.values.reshape(-1)
        out: dict[int, list[Value]] = {}
        for ind, leaf in leaves:
            at = self.offset[id(leaf)]
            for j, (k, _) in enumerate(leaf.weights):
                w = wires[at + j]
                term = as_lc(w) * ind.constant_value() if ind.is_constant() else b.mul(ind, w)
                out.setdefault(k, []).append(term)
        return out

    def combine(self, per_tree: list[dict[int, list[Value]]]) -> list[Value]:
        """The aggregated score of each target from the trees' votes and the base values."""
        ens, base = self.ens, self.base
        bases: list[Value] = list(base.values.reshape(-1)) if base is not None else []
        bases += [0] * (ens.n_targets - len(bases))
        if ens.aggregate in ("SUM", "AVERAGE"):
            return [
                linear([(1, t) for votes in per_tree for t in votes.get(k, [])] + [(1, bases[k])])
                for k in range(ens.n_targets)
            ]
        sign = 1 if ens.aggregate == "MAX" else -1
        out: list[Value] = []
        for k in range(ens.n_targets):
            vals = [linear((sign, t) for t in v[k]) for v in per_tree if k in v]
            if not vals:
                out.append(bases[k])
                continue
            with self.ctx.gadget("max" if sign > 0 else "min"):
                # a tree's vote is one committed weight, within the width of +-2^(bits-1)
                m = max_many(self.ctx.builder, vals, self.leaf.bound.bit_length() + 1)
            out.append(linear([(sign, m), (1, bases[k])]))
        return out

    def bound(self) -> int:
        """A bound on every score: the trees' committed widths, not their values."""
        base = self.base.bound if self.base is not None else 0
        return len(self.ens.trees) * self.leaf.bound + base


def private_rows(
    ctx: LoweringContext, x: QTensor, ens: Ensemble, s: int, n: int,
    cuts: Mapping[int, list[int]], ls: int,
) -> tuple[list[list[Value]], int]:  # fmt: skip
    """The scores of every row of x, and their bound (`ml_tree_circuit.scores`' private
    form): the paths are chosen exactly as there, from the committed thresholds' bits."""
    p = PrivateEnsemble(ctx, ens, s, n, cuts, ls)
    rows = []
    for r in x.values:
        with ctx.gadget("locate"):
            bits = p.bits(list(r))

        def test(
            nd: Split, bits: dict[int, dict[int, LinearCombination]] = bits
        ) -> LinearCombination:
            return _test(ctx, nd, s, bits[nd.feature])

        with ctx.gadget("paths"):
            one = LinearCombination.constant(1)
            per_tree = [p.votes(list(_leaves(ctx, tree, one, test))) for tree in ens.trees]
        rows.append(p.combine(per_tree))
    return rows, p.bound()
