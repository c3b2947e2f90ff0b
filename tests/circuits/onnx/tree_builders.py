"""Random tree ensembles written with onnx.helper in each ONNX-ML encoding, for tests
that cover every node mode, aggregate and post transform."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper

MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
#: Inputs and thresholds on a grid of quarter units, so that equality tests can hit.
GRID = np.arange(-8, 9) / 4.0


@dataclass
class Flat:
    """Parallel lists of the opset 1/3 encoding (one entry per node, leaves included)."""

    tree: list[int] = field(default_factory=list)
    node: list[int] = field(default_factory=list)
    feature: list[int] = field(default_factory=list)
    mode: list[str] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    true: list[int] = field(default_factory=list)
    false: list[int] = field(default_factory=list)
    votes: list[tuple[int, int, int, float]] = field(default_factory=list)


def random_flat(
    seed: int, trees: int, depth: int, features: int, targets: int, modes: list[str]
) -> Flat:
    rng = np.random.default_rng(seed)
    flat = Flat()
    for t in range(trees):
        counter = [0]

        def grow(d: int, t: int = t, counter: list[int] = counter) -> int:
            me = counter[0]
            counter[0] += 1
            at = len(flat.tree)
            flat.tree.append(t)
            flat.node.append(me)
            if d == depth:
                flat.feature.append(0)
                flat.mode.append("LEAF")
                flat.value.append(0.0)
                flat.true.append(0)
                flat.false.append(0)
                for k in range(targets):
                    flat.votes.append((t, me, k, float(rng.normal())))
                return me
            flat.feature.append(int(rng.integers(features)))
            flat.mode.append(str(rng.choice(modes)))
            flat.value.append(float(rng.choice(GRID)))
            flat.true.append(0)
            flat.false.append(0)
            flat.true[at] = grow(d + 1)
            flat.false[at] = grow(d + 1)
            return me

        grow(0)
    return flat


def _model(
    node: onnx.NodeProto, features: int, outputs: list[onnx.ValueInfoProto], ml: int
) -> onnx.ModelProto:
    g = helper.make_graph(
        [node],
        "trees",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, features])],
        outputs,
    )
    return helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", ml)]
    )


def regressor_v3(
    flat: Flat, features: int, targets: int, aggregate: str, base: list[float], post: str = "NONE"
) -> onnx.ModelProto:
    node = helper.make_node(
        "TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml", name="trees",
        nodes_treeids=flat.tree, nodes_nodeids=flat.node, nodes_featureids=flat.feature,
        nodes_modes=flat.mode, nodes_values=flat.value, nodes_truenodeids=flat.true,
        nodes_falsenodeids=flat.false, n_targets=targets, aggregate_function=aggregate,
        target_treeids=[v[0] for v in flat.votes], target_nodeids=[v[1] for v in flat.votes],
        target_ids=[v[2] for v in flat.votes], target_weights=[v[3] for v in flat.votes],
        base_values=base, post_transform=post,
    )  # fmt: skip
    out = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, targets])
    return _model(node, features, [out], 3)


def classifier_v3(
    flat: Flat, features: int, labels: list[int], post: str, base: list[float]
) -> onnx.ModelProto:
    node = helper.make_node(
        "TreeEnsembleClassifier", ["X"], ["label", "Y"], domain="ai.onnx.ml", name="trees",
        nodes_treeids=flat.tree, nodes_nodeids=flat.node, nodes_featureids=flat.feature,
        nodes_modes=flat.mode, nodes_values=flat.value, nodes_truenodeids=flat.true,
        nodes_falsenodeids=flat.false, classlabels_int64s=labels,
        class_treeids=[v[0] for v in flat.votes], class_nodeids=[v[1] for v in flat.votes],
        class_ids=[v[2] for v in flat.votes], class_weights=[v[3] for v in flat.votes],
        base_values=base, post_transform=post,
    )  # fmt: skip
    outs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, len(labels)]),
    ]
    return _model(node, features, outs, 3)


def ensemble_v5(
    seed: int, trees: int, depth: int, features: int, targets: int, aggregate: int
) -> onnx.ModelProto:
    """A `TreeEnsemble` (opset 5) with every mode, BRANCH_MEMBER included (code 6)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list[int]] = {k: [] for k in ("f", "m", "t", "tl", "fl")}
    splits: list[float] = []
    members: list[float] = []
    leaf_t: list[int] = []
    leaf_w: list[float] = []
    roots: list[int] = []

    target = [0]  # one target per tree, as exporters write them

    def grow(d: int) -> tuple[int, int]:
        if d == depth:
            leaf_t.append(target[0])
            leaf_w.append(float(rng.normal()))
            return len(leaf_t) - 1, 1
        i = len(splits)
        splits.append(float(rng.choice(GRID)))
        mode = int(rng.integers(7))
        for k, v in (
            ("f", int(rng.integers(features))),
            ("m", mode),
            ("t", 0),
            ("tl", 0),
            ("fl", 0),
        ):
            cols[k].append(v)
        cols.setdefault("fn", []).append(0)
        if mode == 6:
            # onnxruntime implements membership of integers only
            members.extend([*rng.choice(np.arange(-2.0, 3.0), 3, replace=False), float("nan")])
        cols["t"][i], cols["tl"][i] = grow(d + 1)
        cols["fn"][i], cols["fl"][i] = grow(d + 1)
        return i, 0

    for t in range(trees):
        target[0] = t % targets
        roots.append(grow(0)[0])
    f64 = TensorProto.DOUBLE
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["Y"], domain="ai.onnx.ml", name="trees",
        nodes_featureids=cols["f"], nodes_truenodeids=cols["t"], nodes_falsenodeids=cols["fn"],
        nodes_trueleafs=cols["tl"], nodes_falseleafs=cols["fl"],
        nodes_modes=helper.make_tensor("m", TensorProto.UINT8, [len(splits)], cols["m"]),
        nodes_splits=helper.make_tensor("s", f64, [len(splits)], splits),
        membership_values=helper.make_tensor("mv", f64, [len(members)], members),
        leaf_targetids=leaf_t, leaf_weights=helper.make_tensor("w", f64, [len(leaf_w)], leaf_w),
        tree_roots=roots, n_targets=targets, aggregate_function=aggregate,
    )  # fmt: skip
    g = helper.make_graph(
        [node], "trees", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [1, features])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [1, targets])],
    )  # fmt: skip
    return helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)]
    )


def grid_rows(seed: int, rows: int, features: int, integers: bool = False) -> np.ndarray:
    """Rows on the grid; `integers`: whole numbers only (onnxruntime truncates a feature to
    an integer before a BRANCH_MEMBER test, where the specification compares exactly)."""
    grid = np.arange(-3.0, 4.0) if integers else GRID
    return np.random.default_rng(seed).choice(grid, size=(rows, features)).astype(np.float32)
