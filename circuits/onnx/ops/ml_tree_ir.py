"""Tree ensembles as plain trees: the two ONNX-ML encodings read into one IR.

* `TreeEnsembleClassifier` / `TreeEnsembleRegressor` (ai.onnx.ml opsets 1 and 3): parallel
  lists ``nodes_*`` keyed by (tree id, node id), mode strings with ``LEAF`` for leaves, and
  leaf votes in ``class_*`` / ``target_*`` lists; opset 3 adds ``*_as_tensor`` (double)
  variants of the float lists.
* `TreeEnsemble` (opset 5): interior nodes by index, ``nodes_trueleafs`` /
  ``nodes_falseleafs`` saying whether a child index points at a leaf (one
  (target, weight) vote each), integer modes including ``BRANCH_MEMBER`` (its set is the
  next NaN-delimited group of ``membership_values``), integer aggregate and post transform.

Missing values: a circuit input is never NaN (quantization refuses it), so
``nodes_missing_value_tracks_true`` never changes a branch and is accepted as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

MODES = (
    "BRANCH_LEQ",
    "BRANCH_LT",
    "BRANCH_GTE",
    "BRANCH_GT",
    "BRANCH_EQ",
    "BRANCH_NEQ",
    "BRANCH_MEMBER",
)
AGGREGATES = ("AVERAGE", "SUM", "MIN", "MAX")  # opset 5 codes 0..3
POST_V5 = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT")  # opset 5 codes 0..4


@dataclass(frozen=True)
class Leaf:
    """A leaf and its votes: (target or class index, weight)."""

    weights: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Split:
    """An interior node: go to `true` when the test of x[feature] holds."""

    feature: int
    mode: str
    value: float
    members: tuple[float, ...]
    true: Node
    false: Node


Node = Union[Leaf, Split]  # noqa: UP007


@dataclass(frozen=True)
class Ensemble:
    """Trees, number of targets (or classes), base values and the aggregation."""

    trees: tuple[Node, ...]
    n_targets: int
    base: tuple[float, ...]
    aggregate: str
    post: str

    def internal_nodes(self) -> int:
        return sum(_count(t) for t in self.trees)


def _count(n: Node) -> int:
    return 0 if isinstance(n, Leaf) else 1 + _count(n.true) + _count(n.false)


#: Raised with a message naming the attribute; the lowering wraps it in its node's error.
class TreeFormatError(ValueError):
    pass


def _floats(attrs: Mapping[str, Any], name: str) -> list[float]:
    t = attrs.get(f"{name}_as_tensor")
    v = t if t is not None else attrs.get(name)
    return [] if v is None else [float(a) for a in np.asarray(v, dtype=np.float64).reshape(-1)]


def _ints(attrs: Mapping[str, Any], name: str) -> list[int]:
    v = attrs.get(name)
    return [] if v is None else [int(a) for a in np.asarray(v).reshape(-1)]


def parse_v3(attrs: Mapping[str, Any], prefix: str, n_targets: int) -> Ensemble:
    """An ensemble from opset 1/3 attributes; `prefix` is "class" or "target"."""
    tids, nids = _ints(attrs, "nodes_treeids"), _ints(attrs, "nodes_nodeids")
    modes = [str(m) for m in attrs.get("nodes_modes") or []]
    cols: dict[str, list[Any]] = {
        "nodes_featureids": _ints(attrs, "nodes_featureids"),
        "nodes_values": _floats(attrs, "nodes_values"),
        "nodes_truenodeids": _ints(attrs, "nodes_truenodeids"),
        "nodes_falsenodeids": _ints(attrs, "nodes_falsenodeids"),
    }
    checks: list[tuple[str, list[Any]]] = [("nodes_modes", modes), *cols.items()]
    for name, col in checks:
        if len(col) != len(tids) or len(nids) != len(tids):
            raise TreeFormatError(f"attribute {name} has {len(col)} entries for {len(tids)} nodes")
    votes: dict[tuple[int, int], list[tuple[int, float]]] = {}
    wt = zip(
        _ints(attrs, f"{prefix}_treeids"),
        _ints(attrs, f"{prefix}_nodeids"),
        _ints(attrs, f"{prefix}_ids"),
        _floats(attrs, f"{prefix}_weights"),
        strict=True,
    )
    for t, n, k, w in wt:
        if not 0 <= k < n_targets:
            raise TreeFormatError(f"attribute {prefix}_ids: {k} is not below {n_targets}")
        votes.setdefault((t, n), []).append((k, w))
    at = {(t, n): i for i, (t, n) in enumerate(zip(tids, nids, strict=True))}

    def build(t: int, n: int, depth: int) -> Node:
        i = at.get((t, n))
        if i is None or depth > len(tids):
            raise TreeFormatError(f"tree {t}: node {n} is missing or part of a cycle")
        if modes[i] == "LEAF":
            return Leaf(tuple(votes.get((t, n), [])))
        if modes[i] not in MODES[:6]:
            raise TreeFormatError(f"attribute nodes_modes: {modes[i]!r} (tree {t}, node {n})")
        return Split(
            cols["nodes_featureids"][i], modes[i], cols["nodes_values"][i], (),
            build(t, cols["nodes_truenodeids"][i], depth + 1),
            build(t, cols["nodes_falsenodeids"][i], depth + 1),
        )  # fmt: skip

    trees = tuple(build(t, _root(t, tids, nids, modes, cols), 0) for t in dict.fromkeys(tids))
    base = tuple(_floats(attrs, "base_values"))
    post = str(attrs.get("post_transform", "NONE"))
    return Ensemble(trees, n_targets, base, str(attrs.get("aggregate_function", "SUM")), post)


def _root(t: int, tids: list[int], nids: list[int], modes: list[str], cols: Any) -> int:
    """The node of tree t that no other node of t points at (the lowest such id)."""
    mine = [i for i, x in enumerate(tids) if x == t]
    children = {
        cols[k][i]
        for i in mine
        if modes[i] != "LEAF"
        for k in ("nodes_truenodeids", "nodes_falsenodeids")
    }
    roots = sorted(nids[i] for i in mine if nids[i] not in children)
    if not roots:
        raise TreeFormatError(f"tree {t} has no root (every node is some node's child)")
    return roots[0]


def parse_v5(attrs: Mapping[str, Any]) -> Ensemble:
    """An ensemble from the attributes of `TreeEnsemble` (opset 5)."""
    feats = _ints(attrs, "nodes_featureids")
    splits = _floats(attrs, "nodes_splits")
    modes = _ints(attrs, "nodes_modes") or [0] * len(feats)
    tnode, fnode = _ints(attrs, "nodes_truenodeids"), _ints(attrs, "nodes_falsenodeids")
    tleaf = _ints(attrs, "nodes_trueleafs") or [0] * len(feats)
    fleaf = _ints(attrs, "nodes_falseleafs") or [0] * len(feats)
    targets, weights = _ints(attrs, "leaf_targetids"), _floats(attrs, "leaf_weights")
    n_targets = int(attrs.get("n_targets", 1))
    if any(m not in range(len(MODES)) for m in modes):
        raise TreeFormatError(f"attribute nodes_modes: codes {sorted(set(modes))}, expected 0..6")
    members = _member_sets(_floats(attrs, "membership_values"), modes.count(6))
    set_of = {i: members[j] for j, i in enumerate(i for i, m in enumerate(modes) if m == 6)}

    def leaf(j: int) -> Node:
        if not 0 <= targets[j] < n_targets:
            raise TreeFormatError(f"attribute leaf_targetids: {targets[j]} >= n_targets")
        return Leaf(((targets[j], weights[j]),))

    def build(i: int, depth: int) -> Node:
        if not 0 <= i < len(feats) or depth > len(feats):
            raise TreeFormatError(f"interior node {i} is missing or part of a cycle")
        t = leaf(tnode[i]) if tleaf[i] else build(tnode[i], depth + 1)
        f = leaf(fnode[i]) if fleaf[i] else build(fnode[i], depth + 1)
        return Split(feats[i], MODES[modes[i]], splits[i], set_of.get(i, ()), t, f)

    trees = tuple(build(r, 0) for r in _ints(attrs, "tree_roots"))
    agg, post = int(attrs.get("aggregate_function", 1)), int(attrs.get("post_transform", 0))
    if agg not in range(4) or post not in range(5):
        raise TreeFormatError(f"aggregate_function {agg} or post_transform {post} out of range")
    base = ()  # opset 5 has no base values: exporters fold them into the leaves
    return Ensemble(trees, n_targets, base, AGGREGATES[agg], POST_V5[post])


def _member_sets(values: Sequence[float], count: int) -> list[tuple[float, ...]]:
    groups: list[list[float]] = [[]]
    for v in values:
        if math.isnan(v):
            groups.append([])
        else:
            groups[-1].append(v)
    if groups and not groups[-1]:
        groups.pop()
    if len(groups) < count:
        raise TreeFormatError(f"membership_values has {len(groups)} sets for {count} nodes")
    return [tuple(g) for g in groups[:count]]


def walk(node: Node, fn: Callable[[Split], None]) -> None:
    """Call fn on every interior node below `node`."""
    if isinstance(node, Split):
        fn(node)
        walk(node.true, fn)
        walk(node.false, fn)
