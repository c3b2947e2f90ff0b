"""The graph walker: ONNX graph + QuantConfig -> circuit, public statement and witness maker.

Circuit layout:

1. public ``binding`` (carried only; Groth16's input-consistency rows bind it);
2. private ``x:<input>[i]``: each quantized model input, range-checked to ``input_bits``;
   public ``in[k]``: the packed input words (one constraint each);
3. the nodes in graph order, each under a gadget label ``<op>#<index>`` (so constraint
   counts per node come from the constraint system);
4. every graph output brought to ``act_scale`` (rescaled if finer, range-checked to
   ``output_bits`` unless its static bound already fits), then public ``out[k]``: the
   packed output words.

Scales: a node's outputs may be finer than ``act_scale`` (linear layers return their
accumulator); a consumer that needs activation scale rescales (once per tensor), and the
walker itself rescales any output finer than ``act_scale + weight_scale``.

The walk is deterministic: compiling the same graph with the same config always yields
the same constraint system, which is how a saved artifact is re-loaded and checked.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from circuits.builder import Builder
from circuits.errors import (
    LoweringError,
    ModelError,
)
from circuits.gadgets.bits import assert_signed
from circuits.onnx.context import LoweringContext, SharedState
from circuits.onnx.graph import BOOL, OnnxGraph
from circuits.onnx.loader import constant_value, fold_node
from circuits.onnx.model import CompiledModel as CompiledModel
from circuits.onnx.model import IOSpec, NodeCost
from circuits.onnx.passes import fold_batchnorm
from circuits.onnx.private import claim_words, commit_weights, statement_words
from circuits.onnx.quant import QuantConfig, signed_limit
from circuits.onnx.registry import get_lowering
from circuits.onnx.statement import Packing, PublicLayout, bind_words
from circuits.onnx.tensor import Const, QTensor, Value, object_array
from circuits.onnx.visibility import Visibility


def compile_graph(
    graph: OnnxGraph, config: QuantConfig | None = None, visibility: Visibility | None = None
) -> CompiledModel:
    """Build the circuit of `graph` under `config` (default `QuantConfig()`) with the
    statement `visibility` (default: everything public)."""
    cfg, vis = config or QuantConfig(), visibility or Visibility()
    graph = fold_batchnorm(graph)
    b = Builder()
    state = SharedState(b, cfg, private_weights=[] if vis.weights == "private" else None)
    b.public_input("binding")
    env: dict[str, QTensor | Const] = dict(graph.constants)
    state.scope = env
    in_specs, in_values = _inputs(b, graph, cfg, env)
    in_packing = Packing.for_bits(cfg.input_bits, cfg.pack)
    with b.gadget("inputs"):
        bind_words(b, "in", statement_words(b, vis.inputs, "inputs", in_values, in_packing))
    inputs_cost = NodeCost(-1, "inputs", "Input", "inputs", b.n_constraints)
    costs = [_node(state, graph, i, node, env) for i, node in enumerate(graph.nodes)]
    before = b.n_constraints
    out_specs, out_values = _outputs(state, graph, env)
    out_packing = Packing.for_bits(cfg.output_bits, cfg.pack)
    with b.gadget("output"):
        if vis.claim is not None:
            bind_words(b, "claim", claim_words(b, vis.claim, out_specs, out_values, cfg))
        else:
            words = statement_words(b, vis.outputs, "outputs", out_values, out_packing)
            bind_words(b, "out", words)
    costs.append(NodeCost(len(costs), "outputs", "Output", "output", b.n_constraints - before))
    private = tuple(state.private_weights or ())
    if vis.weights == "private":
        before = b.n_constraints
        with b.gadget("weights"):
            bind_words(b, "weights_commitment", [commit_weights(b, private)])
        costs.append(
            NodeCost(len(costs), "weights", "Commitment", "weights", b.n_constraints - before)
        )
    layout = PublicLayout(
        len(in_values),
        len(out_values),
        in_packing,
        out_packing,
        vis.inputs == "private",
        "claim" if vis.claim else ("commitment" if vis.outputs == "private" else "values"),
        vis.weights == "private",
    )
    return CompiledModel(
        graph,
        cfg,
        b.build(),
        tuple(in_specs),
        tuple(out_specs),
        layout,
        (inputs_cost, *costs),
        tuple(state.approximations),
        vis,
        private,
        tuple(out_values),
    )


def _inputs(
    b: Builder, graph: OnnxGraph, cfg: QuantConfig, env: dict[str, QTensor | Const]
) -> tuple[list[IOSpec], list[Value]]:
    specs: list[IOSpec] = []
    flat: list[Value] = []
    with b.gadget("inputs"):
        for info in graph.inputs:
            xs = b.private_inputs(f"x:{info.name}", info.size)
            flag = info.elem_type == BOOL
            for x in xs:
                if flag:  # booleans are 0 or 1, as the logic ops rely on
                    b.assert_bool(x)
                else:
                    assert_signed(b, x, cfg.input_bits)
            # integer inputs are exact at scale 0 (indices, counts, flags)
            scale = 0 if info.is_integer else cfg.input_scale
            bound = 1 if flag else 1 << (cfg.input_bits - 1)
            env[info.name] = QTensor(object_array(xs, info.shape), scale, bound)
            specs.append(IOSpec(info.name, info.shape, scale, cfg.input_bits))
            flat.extend(xs)
    return specs, flat


def _node(
    state: SharedState,
    graph: OnnxGraph,
    index: int,
    node: onnx.NodeProto,
    env: dict[str, QTensor | Const],
) -> NodeCost:
    name = node.name or f"{node.op_type}_{index}"
    label = f"{node.op_type}#{index}"
    args = [env.get(i) if i else None for i in node.input]
    missing = [i for i, a in zip(node.input, args, strict=True) if i and a is None]
    if missing:
        raise ModelError(
            f"{graph.path}: node {name!r} ({node.op_type}) reads undefined tensor(s) {missing}"
        )
    if node.op_type == "Constant":
        results: list[QTensor | Const] = [constant_value(node)]
    elif not any(isinstance(a, QTensor) for a in args) and not _has_body(node):
        consts = [a for a in args if not isinstance(a, QTensor)]
        results = list(fold_node(node, consts, graph.opset))
    else:
        fn = get_lowering(node.op_type, node.domain, name, graph.opset)
        ctx = LoweringContext(state, node.op_type, name, graph.opset, tuple(node.output))
        before = state.builder.n_constraints
        with state.builder.gadget(label):
            results = [_bounded(ctx, r) for r in _call(ctx, fn, args, node)]
        _store(ctx, node, results, env)
        return NodeCost(index, name, node.op_type, label, state.builder.n_constraints - before)
    for out, r in zip(node.output, results, strict=False):
        if out:
            env[out] = r
    return NodeCost(index, name, node.op_type, label, 0)


def _has_body(node: onnx.NodeProto) -> bool:
    """A node with a subgraph (Loop, Scan, If) may read computed tensors of the enclosing
    graph through it, so its own constant inputs do not make it foldable."""
    return any(
        a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute
    )


def _call(
    ctx: LoweringContext, fn: Any, args: list[QTensor | Const | None], node: onnx.NodeProto
) -> list[QTensor | Const]:
    attrs = {a.name: _attr(a) for a in node.attribute}
    while args and args[-1] is None:
        args.pop()
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in attrs if k not in params and not takes_any)
    if unknown:
        raise ctx.unsupported(f"attribute(s) {unknown}")
    try:
        res = fn(ctx, *args, **attrs)
    except TypeError as e:
        raise LoweringError(
            ctx.op_type, ctx.node, ctx.opset, f"bad inputs or attributes: {e}"
        ) from e
    return list(res) if isinstance(res, tuple) else [res]


def _bounded(ctx: LoweringContext, r: QTensor | Const) -> QTensor | Const:
    """r, rescaled to activation scale if its scale grew past act + weight scale (so that
    chains of products cannot keep adding fraction bits); its bound checked."""
    if not isinstance(r, QTensor):
        return r
    ctx.check_bound(r.bound, "an output")
    cfg = ctx.config
    return ctx.activation(r) if r.scale > cfg.act_scale + cfg.weight_scale else r


def _attr(a: onnx.AttributeProto) -> Any:
    v = helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, onnx.TensorProto):
        return numpy_helper.to_array(v)
    if isinstance(v, list):
        return [x.decode() if isinstance(x, bytes) else x for x in v]
    return v


def _store(
    ctx: LoweringContext,
    node: onnx.NodeProto,
    results: list[QTensor | Const],
    env: dict[str, QTensor | Const],
) -> None:
    for i, out in enumerate(node.output):
        if not out:
            continue
        if i >= len(results):
            raise ctx.unsupported(f"output #{i} ({out!r}) is not produced by this compiler")
        env[out] = results[i]


def _outputs(
    state: SharedState, graph: OnnxGraph, env: dict[str, QTensor | Const]
) -> tuple[list[IOSpec], list[Value]]:
    cfg, b = state.config, state.builder
    specs, flat = [], []
    for info in graph.outputs:
        t = env.get(info.name)
        ctx = LoweringContext(state, "Output", info.name, graph.opset, (info.name,))
        if t is None:
            raise ModelError(f"{graph.path}: output {info.name!r} is never computed")
        if not isinstance(t, QTensor):
            # a constant output (a Shape, a mask): stated as it is, range-checked below
            t = ctx.const(np.asarray(t, dtype=np.float64), cfg.act_scale)
        with b.gadget("output"):
            t = _to_output(ctx, t)
        specs.append(IOSpec(info.name, t.shape, t.scale, cfg.output_bits))
        flat.extend(t.flat())
    return specs, flat


def _to_output(ctx: LoweringContext, t: QTensor) -> QTensor:
    """t at act_scale, every element provably inside output_bits signed bits."""
    cfg = ctx.config
    if t.scale > cfg.act_scale:
        return ctx.rescale(t, cfg.act_scale, bits=cfg.output_bits)
    t = ctx.upscale(t, cfg.act_scale)
    if t.bound <= signed_limit(cfg.output_bits):
        return t
    for v in t.flat():
        if not isinstance(v, int):
            assert_signed(ctx.builder, v, cfg.output_bits)
    return QTensor(t.values, t.scale, 1 << (cfg.output_bits - 1))
