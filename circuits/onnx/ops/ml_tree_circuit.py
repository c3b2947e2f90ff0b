"""The circuit of a tree ensemble (read by `ml_tree_ir`): raw scores from features.

Every node test is a comparison of the fixed-point feature x_q (x at scale s) with an
integer cut point: x <= t holds exactly when x_q <= floor(t 2^s), x < t when
x_q <= ceil(t 2^s) - 1, GTE and GT are their negations, x = t is
[x_q <= k] - [x_q <= k - 1] when t 2^s is an integer k (never otherwise), NEQ its negation
and MEMBER a sum of equalities. So all tests of a feature are bits [x_q <= c] for the
sorted cut points c the whole ensemble uses on it, and `locate` proves them all at once
(m + 2 n + 3 constraints for m cut points of an n-bit feature). A feature that lies within
one quantization step of a threshold may take the other branch than onnxruntime's float
comparison; every other row follows onnxruntime's path exactly.

The path is chosen by constraints: the root's indicator is 1, a true child's indicator is
parent * bit (one product, free at the root or for a constant bit) and a false child's is
parent - true child's (free), so exactly one leaf of each tree has indicator 1 and the
scores are free sums of indicator * quantized leaf weight. Leaf weights are quantized at
``weight_scale + bits(trees) + 1`` so the rounding of all trees together stays below half a
step of ``weight_scale``; the bound is recorded for the error report, with the constraint
count per interior node (`zkoracle info` shows both).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from circuits.gadgets.locate import locate
from circuits.gadgets.reduce import max_many
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.ops.ml_tree_ir import Ensemble, Leaf, Node, Split, walk
from circuits.onnx.quant import bits_for_bound, quantize
from circuits.onnx.tensor import Operand, QTensor, Value, as_lc, linear, object_array

#: Thresholds beyond this magnitude (after scaling) behave like infinities.
_HUGE = 2.0**200


# cut points ------------------------------------------------------------------------------
def _scaled(ctx: LoweringContext, v: float, s: int) -> float:
    if math.isnan(v):
        raise ctx.error("a node threshold is NaN")
    return max(-_HUGE, min(_HUGE, math.ldexp(v, s)))


def _eq_cuts(ctx: LoweringContext, n: Split, t: float, s: int) -> list[int]:
    if t != math.floor(t):
        # a float input can equal such a value exactly, a quantized one never can
        raise ctx.unsupported(
            f"node mode {n.mode} on feature {n.feature} compares with "
            f"{math.ldexp(t, -s)!r}, which is not a multiple of 2^-{s} (the feature's "
            "quantization step); encode categories as small integers"
        )
    return [int(t), int(t) - 1]


def _cuts(ctx: LoweringContext, n: Split, s: int) -> list[int]:
    """The cut points c whose bits [x_q <= c] decide the test of node n."""
    t = _scaled(ctx, n.value, s)
    if n.mode in ("BRANCH_LEQ", "BRANCH_GT"):
        return [math.floor(t)]
    if n.mode in ("BRANCH_LT", "BRANCH_GTE"):
        return [math.ceil(t) - 1]
    if n.mode in ("BRANCH_EQ", "BRANCH_NEQ"):
        return _eq_cuts(ctx, n, t, s)
    return [c for m in n.members for c in _eq_cuts(ctx, n, _scaled(ctx, m, s), s)]


def _test(
    ctx: LoweringContext, n: Split, s: int, bits: Mapping[int, LinearCombination]
) -> LinearCombination:
    """The node's test as a boolean linear combination of the located bits."""
    t = _scaled(ctx, n.value, s)

    def eq(t: float) -> LinearCombination:  # t is an integer: `_cuts` refused the others
        return bits[int(t)] - bits[int(t) - 1]

    if n.mode == "BRANCH_LEQ":
        return bits[math.floor(t)]
    if n.mode == "BRANCH_GT":
        return 1 - bits[math.floor(t)]
    if n.mode == "BRANCH_LT":
        return bits[math.ceil(t) - 1]
    if n.mode == "BRANCH_GTE":
        return 1 - bits[math.ceil(t) - 1]
    if n.mode == "BRANCH_EQ":
        return eq(t)
    if n.mode == "BRANCH_NEQ":
        return 1 - eq(t)
    members = sorted({_scaled(ctx, m, s) for m in n.members})
    return sum((eq(m) for m in members), LinearCombination.constant(0))


def _cut_table(ctx: LoweringContext, ens: Ensemble, s: int, width: int) -> dict[int, list[int]]:
    table: dict[int, set[int]] = {}

    def visit(n: Split) -> None:
        if not 0 <= n.feature < width:
            raise ctx.error(f"a node tests feature {n.feature}, the input has {width} features")
        table.setdefault(n.feature, set()).update(_cuts(ctx, n, s))

    for tree in ens.trees:
        walk(tree, visit)
    return {f: sorted(cs) for f, cs in table.items()}


# paths -----------------------------------------------------------------------------------
def _leaves(
    ctx: LoweringContext, node: Node, ind: LinearCombination, test: Any
) -> Iterator[tuple[LinearCombination, Leaf]]:
    """(indicator, leaf) for every leaf that the constraints do not rule out."""
    if ind.is_constant() and ind.constant_value() == 0:
        return
    if isinstance(node, Leaf):
        yield ind, node
        return
    c: LinearCombination = test(node)
    if ind.is_constant():
        t = c * ind.constant_value()
    elif c.is_constant():
        t = ind * c.constant_value()
    else:
        t = ctx.builder.mul(ind, c)
    yield from _leaves(ctx, node.true, t, test)
    yield from _leaves(ctx, node.false, ind - t, test)


def _leaf_scale(ctx: LoweringContext, ens: Ensemble) -> int:
    return ctx.config.weight_scale + len(ens.trees).bit_length() + 1


def _row(ctx: LoweringContext, xs: Sequence[Value], n: int, ens: Ensemble, s: int,
         cuts: Mapping[int, list[int]], ls: int) -> list[Value]:  # fmt: skip
    """The aggregated score of each target for one row of features."""
    b = ctx.builder
    with ctx.gadget("locate"):
        bits = {f: dict(zip(cs, locate(b, as_lc(xs[f]), cs, n), strict=True))
                for f, cs in cuts.items()}  # fmt: skip
    factor = 1.0 / len(ens.trees) if ens.aggregate == "AVERAGE" else 1.0
    per_tree: list[dict[int, list[tuple[int, LinearCombination]]]] = []
    with ctx.gadget("paths"):
        for tree in ens.trees:
            votes: dict[int, list[tuple[int, LinearCombination]]] = {}
            for ind, leaf in _leaves(
                ctx,
                tree,
                LinearCombination.constant(1),
                lambda nd: _test(ctx, nd, s, bits[nd.feature]),
            ):
                for k, w in leaf.weights:
                    votes.setdefault(k, []).append((int(quantize(w * factor, ls).item()), ind))
            per_tree.append(votes)
    base = [int(quantize(v, ls).item()) for v in ens.base] + [0] * ens.n_targets
    if ens.aggregate in ("SUM", "AVERAGE"):
        return [linear([(w, ind) for votes in per_tree for w, ind in votes.get(k, [])], base[k])
                for k in range(ens.n_targets)]  # fmt: skip
    return [
        _extreme(ctx, per_tree, k, ens.aggregate == "MAX", base[k]) for k in range(ens.n_targets)
    ]


_Votes = dict[int, list[tuple[int, LinearCombination]]]


def _extreme(
    ctx: LoweringContext, per_tree: list[_Votes], k: int, is_max: bool, base: int
) -> Value:
    sign = 1 if is_max else -1
    vals = [linear((sign * w, ind) for w, ind in votes[k]) for votes in per_tree if k in votes]
    if not vals:
        return base
    bound = max(max((abs(w) for w, _ in votes[k]), default=0) for votes in per_tree if k in votes)
    with ctx.gadget("max" if is_max else "min"):
        m = max_many(ctx.builder, vals, bits_for_bound(bound))
    return linear([(sign, m)], base)


def scores(ctx: LoweringContext, X: Operand, ens: Ensemble) -> QTensor:
    """The aggregated raw scores, shape (N, n_targets), at the leaf scale."""
    x = computed(ctx, X, "X")
    x = x.reshape((1, x.shape[0])) if x.ndim == 1 else x
    if x.ndim != 2:
        raise ctx.error(f"input X must have shape [N, F], got {list(x.shape)}")
    _check_votes(ctx, ens)
    before = ctx.builder.n_constraints
    s, n, ls = x.scale, bits_for_bound(x.bound), _leaf_scale(ctx, ens)
    cuts = _cut_table(ctx, ens, s, x.shape[1])
    if ctx.private_mode:
        from circuits.onnx.ops.ml_tree_private import private_rows  # builds on this module

        rows, bound = private_rows(ctx, x, ens, s, n, cuts, ls)
    else:
        rows = [_row(ctx, list(r), n, ens, s, cuts, ls) for r in x.values]
        bound = _score_bound(ens, ls)
    _record(ctx, ens, ctx.builder.n_constraints - before, ls, len(x.values))
    return QTensor(object_array([v for r in rows for v in r], (len(rows), ens.n_targets)), ls,
                   ctx.check_bound(bound, "a tree score"))  # fmt: skip


def _check_votes(ctx: LoweringContext, ens: Ensemble) -> None:
    if ens.aggregate not in ("MIN", "MAX"):
        return
    for i, tree in enumerate(ens.trees):
        targets = [frozenset(k for k, _ in leaf.weights) for _, leaf in _all_leaves(tree)]
        if len(set(targets)) > 1:
            raise ctx.unsupported(
                f"aggregate_function = MIN/MAX with tree {i} voting for different targets in "
                "different leaves; give every leaf of a tree a weight for the same targets"
            )


def _all_leaves(node: Node) -> Iterator[tuple[None, Leaf]]:
    if isinstance(node, Leaf):
        yield None, node
    else:
        yield from _all_leaves(node.true)
        yield from _all_leaves(node.false)


def _score_bound(ens: Ensemble, ls: int) -> int:
    factor = 1.0 / len(ens.trees) if ens.aggregate == "AVERAGE" else 1.0
    per_target = [0] * ens.n_targets
    for tree in ens.trees:
        top = [0] * ens.n_targets
        for _, leaf in _all_leaves(tree):
            for k, w in leaf.weights:
                top[k] = max(top[k], abs(int(quantize(w * factor, ls).item())))
        per_target = [a + t for a, t in zip(per_target, top, strict=True)]
    base = [abs(int(quantize(v, ls).item())) for v in ens.base] + [0] * ens.n_targets
    return max((p + base[k] for k, p in enumerate(per_target)), default=0)


def _record(ctx: LoweringContext, ens: Ensemble, cost: int, ls: int, rows: int) -> None:
    interior = ens.internal_nodes()
    ctx.record_approximation(
        {"function": "tree_ensemble", "method": "bound",
         "max_abs_error": (len(ens.trees) + 1) * math.ldexp(1.0, -ls - 1),
         "trees": len(ens.trees), "internal_nodes": interior, "constraints": cost,
         "constraints_per_internal_node": cost / max(interior * rows, 1)}
    )  # fmt: skip
