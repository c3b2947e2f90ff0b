"""Isolation forests as skl2onnx exports them, rewritten into one tree ensemble.

skl2onnx writes each isolation tree as a `TreeEnsembleRegressor` over a `Gather` of the
features whose output is the *leaf index*, then maps that index through `LabelEncoder`s
(leaf -> sample count, leaf -> depth) and a chain of Log, Div, Max, Greater, Equal, Mul
and Add into the tree's path length, sums the path lengths (`Sum`) and scores
offset - 2^(-sum / (n_trees c)). Everything before the `Sum` is a function of one tree's
leaf alone, so it is a table: this module evaluates the chain for every leaf of every
tree (with onnx's reference evaluator, pure numpy, so the table is the same wherever the
model is compiled), and puts the path lengths in as the leaf weights of a single
`TreeEnsembleRegressor` over the original features whose SUM is the `Sum`'s output. The
scalar steps after the sum (division by n_trees c, negation, the constant-base `Pow(2, y)`)
are folded into the leaf weights, leaving `Exp` of the ensemble's sum (a certified
approximation); the rest of the graph stays as exported. The statement is then proved like any tree
ensemble; nothing of the leaf chain is trusted beyond the exported graph's own constants.

`rewrite_isolation_forest` returns the model unchanged when it does not have this shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_TREE = "TreeEnsembleRegressor"


def rewrite_isolation_forest(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with its isolation trees folded into one ensemble (see the module doc).
    A model that only looks like one is returned as it is: its own operators then get
    the usual errors (e.g. LabelEncoder unsupported, naming the node)."""
    try:
        return _rewrite(model)
    except (ValueError, KeyError, IndexError, TypeError, RuntimeError):
        return model


def _rewrite(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    if not any(n.op_type == "LabelEncoder" for n in g.node):
        return model
    sums = [n for n in g.node if n.op_type == "Sum"]
    trees = [n for n in g.node if n.op_type == _TREE]
    if len(sums) != 1 or not trees or len(sums[0].input) != len(trees):
        return model
    producer = {o: n for n in g.node for o in n.output}
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    x_name = next(i.name for i in g.input if i.name not in consts)
    merged = _Merged()
    for depth in sums[0].input:
        chain = _chain(producer, depth, {t.output[0] for t in trees})
        if chain is None:
            return model
        tree, nodes = chain
        gather = producer.get(tree.input[0])
        if gather is None or gather.op_type != "Gather" or gather.input[0] != x_name:
            return model
        columns = consts[gather.input[1]].reshape(-1).astype(np.int64)
        merged.add(tree, columns, _leaf_table(model, tree, nodes, depth))
    tail = _downstream(g.node, sums[0].output[0])
    factor, out, rest = _absorb(tail, sums[0].output[0], consts)
    merged.scale(factor)
    new_nodes = [merged.node(x_name, out), *rest]
    used = {i for n in new_nodes for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    inputs = [v for v in g.input if v.name not in consts or v.name in used]
    graph = helper.make_graph(new_nodes, g.name, inputs, list(g.output), inits)
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return out


def _chain(
    producer: dict[str, onnx.NodeProto], depth: str, tree_outputs: set[str]
) -> tuple[onnx.NodeProto, list[onnx.NodeProto]] | None:
    """The one tree `depth` depends on and the nodes between them (in graph order)."""
    seen: dict[str, onnx.NodeProto] = {}
    tree: onnx.NodeProto | None = None
    stack = [depth]
    while stack:
        name = stack.pop()
        node = producer.get(name)
        if node is None or name in seen:
            continue
        if name in tree_outputs:
            if tree is not None and tree is not node:
                return None
            tree = node
            continue
        seen[name] = node
        stack += list(node.input)
    if tree is None:
        return None
    order = {id(n): i for i, n in enumerate(producer.values())}
    nodes = sorted({id(n): n for n in seen.values()}.values(), key=lambda n: order[id(n)])
    return tree, nodes


def _leaf_table(
    model: onnx.ModelProto, tree: onnx.NodeProto, nodes: list[onnx.NodeProto], depth: str
) -> dict[int, float]:
    """leaf index -> the chain's value, by the reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    attrs = {a.name: helper.get_attribute_value(a) for a in tree.attribute}
    leaves = sorted({float(w) for w in attrs["target_weights"]})
    needed = {i for n in nodes for i in n.input}
    inits = [t for t in model.graph.initializer if t.name in needed]
    sub = helper.make_graph(
        nodes,
        "leaf_chain",
        [helper.make_tensor_value_info(tree.output[0], TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info(depth, TensorProto.FLOAT, None)],
        inits,
    )
    ev = ReferenceEvaluator(helper.make_model(sub, opset_imports=list(model.opset_import)))
    (values,) = ev.run(None, {tree.output[0]: np.array(leaves, np.float32).reshape(-1, 1)})
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    return {int(k): float(v) for k, v in zip(leaves, flat, strict=True)}


class _Merged:
    """The attributes of one TreeEnsembleRegressor holding every tree."""

    def __init__(self) -> None:
        self.attrs: dict[str, list[Any]] = {}
        self.count = 0

    def add(self, tree: onnx.NodeProto, columns: np.ndarray, table: dict[int, float]) -> None:
        a = {x.name: helper.get_attribute_value(x) for x in tree.attribute}
        k = self.count
        self.count += 1
        self._extend("nodes_treeids", [k] * len(a["nodes_nodeids"]))
        for key in ("nodes_nodeids", "nodes_modes", "nodes_values", "nodes_truenodeids",
                    "nodes_falsenodeids"):  # fmt: skip
            self._extend(key, a[key])
        self._extend("nodes_featureids", [int(columns[f]) for f in a["nodes_featureids"]])
        self._extend("target_treeids", [k] * len(a["target_nodeids"]))
        self._extend("target_nodeids", a["target_nodeids"])
        self._extend("target_ids", a["target_ids"])
        self._extend("target_weights", [table[int(float(w))] for w in a["target_weights"]])

    def scale(self, factor: float) -> None:
        weights = self.attrs["target_weights"]
        self.attrs["target_weights"] = [factor * float(w) for w in weights]

    def _extend(self, key: str, values: Iterable[Any]) -> None:
        self.attrs.setdefault(key, []).extend(
            v.decode() if isinstance(v, bytes) else v for v in values
        )

    def node(self, x: str, out: str) -> onnx.NodeProto:
        attrs: dict[str, Any] = {"n_targets": 1, "aggregate_function": "SUM",
                                 "post_transform": "NONE", **self.attrs}  # fmt: skip
        return helper.make_node(
            _TREE, [x], [out], domain="ai.onnx.ml", name="isolation_trees", **attrs
        )


def _downstream(nodes: Iterable[onnx.NodeProto], start: str) -> list[onnx.NodeProto]:
    """Every node that depends on `start`, in graph order."""
    live, out = {start}, []
    for n in nodes:
        if live.intersection(n.input):
            out.append(n)
            live.update(n.output)
    return out


def _scalar(consts: dict[str, np.ndarray], name: str) -> float | None:
    c = consts.get(name)
    return float(c.reshape(-1)[0]) if c is not None and c.size == 1 else None


def _absorb(
    tail: list[onnx.NodeProto], start: str, consts: dict[str, np.ndarray]
) -> tuple[float, str, list[onnx.NodeProto]]:
    """Fold the scalar steps that follow the sum (Div or Mul by a constant, Neg, and a
    constant-base Pow, which becomes Exp of the folded exponent) into one factor of the
    leaf weights: a constant divisor quantized on its own would cost its relative
    rounding error on the whole sum. Returns (factor, the tree output name, the rest)."""
    factor, cur = 1.0, start
    for i, n in enumerate(tail):
        args = list(n.input)
        other = [a for a in args if a != cur]
        c = _scalar(consts, other[0]) if len(other) == 1 and len(args) == 2 else None
        if n.op_type == "Neg" and args == [cur]:
            factor = -factor
        elif n.op_type == "Div" and args[0] == cur and c:
            factor /= c
        elif n.op_type == "Mul" and c is not None:
            factor *= c
        elif n.op_type == "Pow" and args[1] == cur and c is not None and c > 0:
            factor *= math.log(c)
            exponent = f"{n.output[0]}_exponent"
            exp = helper.make_node("Exp", [exponent], [n.output[0]], name=f"{n.name}_exp")
            return factor, exponent, [exp, *tail[i + 1 :]]
        else:
            break
        cur = n.output[0]
    else:
        return factor, cur, []
    return factor, cur, tail[i:]
