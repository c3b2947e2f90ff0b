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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from circuits.builder import Builder
from circuits.commitment import Segment
from circuits.errors import (
    InputRangeError,
    LoweringError,
    ModelError,
    QuantOverflowError,
    UnsatisfiedConstraintError,
)
from circuits.field import HALF, R
from circuits.gadgets.range import assert_signed
from circuits.onnx.context import LoweringContext, PrivateTensor, SharedState
from circuits.onnx.loader import OnnxGraph, constant_value, fold_node
from circuits.onnx.passes import fold_batchnorm
from circuits.onnx.private import claim_words, commit_weights, statement_words
from circuits.onnx.quant import QuantConfig, dequantize, quantize, signed_limit
from circuits.onnx.registry import get_lowering
from circuits.onnx.schema import IOSpecJson
from circuits.onnx.statement import Packing, PublicLayout, bind_words
from circuits.onnx.tensor import Const, QTensor, Value, object_array
from circuits.onnx.visibility import Visibility
from circuits.program import Circuit, Witness


@dataclass(frozen=True)
class IOSpec:
    """A model input or output as the statement sees it."""

    name: str
    shape: tuple[int, ...]
    scale: int
    bits: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def to_json(self) -> IOSpecJson:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "scale": self.scale,
            "bits": self.bits,
        }


@dataclass(frozen=True)
class NodeCost:
    """Constraints one node emitted."""

    index: int
    name: str
    op_type: str
    label: str
    constraints: int


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A circuit with its statement layout and the maps between floats and witnesses."""

    graph: OnnxGraph
    config: QuantConfig
    circuit: Circuit
    inputs: tuple[IOSpec, ...]
    outputs: tuple[IOSpec, ...]
    layout: PublicLayout
    nodes: tuple[NodeCost, ...]
    #: Certified error bounds of the nonlinear approximations, one JSON-ready dict each
    #: (node, function, max_abs_error...), for the manifest's error report.
    approximations: tuple[dict[str, Any], ...] = ()
    visibility: Visibility = field(default_factory=Visibility)
    #: The weight tensors held in witness wires (private weights), in commitment order.
    private_weights: tuple[PrivateTensor, ...] = ()
    #: The output values as circuit values (builder numbering), statement order.
    output_lcs: tuple[Value, ...] = ()

    @property
    def salt_names(self) -> tuple[str, ...]:
        """The commitments this statement holds, each needing a salt: of "inputs",
        "outputs", "weights"."""
        v = self.visibility
        names = [p for p in ("inputs", "outputs") if getattr(v, p) == "private"]
        if v.claim is not None:
            names.remove("outputs")
        return (*names, *(["weights"] if v.weights == "private" else []))

    def weight_segments(self, weights: Mapping[str, Sequence[int]] | None = None) -> list[Segment]:
        """The committed weight tensors (the model's own values, or `weights` by name)."""
        out = []
        for t in self.private_weights:
            values = t.values if weights is None else tuple(int(v) for v in weights[t.name])
            out.append(Segment(t.name, t.bits, values))
        return out

    def quantize_inputs(self, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, list[int]]:
        """Quantized inputs by name; refuses a missing, extra, mis-shaped or out-of-range one."""
        names = [s.name for s in self.inputs]
        extra = sorted(set(inputs) - set(names))
        if extra:
            raise InputRangeError(f"unknown input(s) {extra}; the model takes {names}")
        out: dict[str, list[int]] = {}
        for spec in self.inputs:
            if spec.name not in inputs:
                raise InputRangeError(
                    f"no value for input {spec.name!r} (shape {list(spec.shape)})"
                )
            arr = np.asarray(inputs[spec.name], dtype=np.float64)
            if [d for d in arr.shape if d != 1] != [d for d in spec.shape if d != 1]:
                raise InputRangeError(
                    f"input {spec.name!r} has shape {list(arr.shape)}, expected {list(spec.shape)}"
                )
            if not np.all(np.isfinite(arr)):
                raise InputRangeError(f"input {spec.name!r} contains NaN or infinity")
            self._check_integral(spec, arr)
            q = [int(v) for v in quantize(arr.reshape(-1), spec.scale)]
            half = 1 << (spec.bits - 1)
            for i, v in enumerate(q):
                if not -half <= v < half:
                    lim = half / 2**spec.scale
                    raise InputRangeError(
                        f"input {spec.name!r}[{i}] = {float(arr.reshape(-1)[i])!r} is outside the "
                        "compiled range "
                        f"[-{lim:g}, {lim:g}) ({spec.bits} signed bits at scale 2^-{spec.scale}); "
                        "recompile with --calibration on representative inputs"
                    )
            out[spec.name] = q
        return out

    def _check_integral(self, spec: IOSpec, arr: npt.NDArray[np.float64]) -> None:
        info = next(i for i in self.graph.inputs if i.name == spec.name)
        if not info.is_integer:
            return
        flat = arr.reshape(-1)
        if info.elem_type == onnx.TensorProto.BOOL:
            frac = np.flatnonzero((flat != 0) & (flat != 1))
            if frac.size:
                i = int(frac[0])
                raise InputRangeError(
                    f"input {spec.name!r}[{i}] = {float(flat[i])!r} is not a boolean (0 or 1)"
                )
        frac = np.flatnonzero(flat != np.round(flat))
        if frac.size:
            i = int(frac[0])
            raise InputRangeError(
                f"input {spec.name!r}[{i}] = {float(arr.reshape(-1)[i])!r} is not an integer, "
                f"but the input has element type {onnx.TensorProto.DataType.Name(info.elem_type)}"
            )

    def witness(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        binding: int = 0,
        *,
        check: bool = True,
        salts: Mapping[str, int] | None = None,
        weights: Mapping[str, Sequence[int]] | None = None,
    ) -> Witness:
        """The full witness for float inputs. A value that overflows a compiled width raises
        `QuantOverflowError` naming the node. `salts` gives the salt of each commitment
        (`salt_names`); `weights` replaces the model's own private weights (by tensor
        name), which only a test of soundness wants."""
        assignment: dict[str, int | list[int]] = {"binding": binding}
        for name, q in self.quantize_inputs(inputs).items():
            assignment[f"x:{name}"] = q
        for part in self.salt_names:
            if salts is None or part not in salts:
                raise InputRangeError(
                    f"the statement holds a commitment to the {part}: a salt for it is "
                    "required (zkoracle prove creates one; keep it to open the commitment)"
                )
            assignment[f"salt:{part}"] = salts[part]
        for t in self.private_weights:
            values = t.values if weights is None else tuple(int(v) for v in weights[t.name])
            assignment[f"w:{t.name}"] = list(values)
        try:
            return self.circuit.solve(assignment, check=check)
        except UnsatisfiedConstraintError as e:
            raise self.overflow_error(e) from e

    def output_values(self, w: Witness) -> list[int]:
        """The quantized outputs (statement order) read from a witness."""
        out = []
        for v in self.output_lcs:
            x = v if isinstance(v, int) else self.circuit.translate(v).evaluate(w.values)
            out.append(x - R if x > HALF else x)
        return out

    def overflow_error(self, e: UnsatisfiedConstraintError) -> QuantOverflowError:
        """Name the node whose range check failed for an honest witness."""
        label = e.gadget.split("/")[0]
        node = next((n for n in self.nodes if n.label == label), None)
        where = f"{node.name} ({node.op_type})" if node else label
        what = (
            "a division by zero, or a quotient beyond the range the circuit was compiled for"
            if "div" in e.gadget
            else "a value exceeds the range the circuit was compiled for"
        )
        return QuantOverflowError(
            where,
            f"{what} (constraint #{e.index}, gadget {e.gadget!r}); recompile with "
            "--calibration on representative inputs",
        )

    def outputs_from_public(self, public: list[int]) -> dict[str, npt.NDArray[np.float64]]:
        """Dequantized outputs by name from a public-input vector (public outputs)."""
        _, _, values = self.layout.split(public)
        return self.dequantize_outputs(values)

    def dequantize_outputs(self, values: Sequence[int]) -> dict[str, npt.NDArray[np.float64]]:
        """Dequantized outputs by name from the quantized outputs in statement order."""
        out: dict[str, npt.NDArray[np.float64]] = {}
        at = 0
        for spec in self.outputs:
            chunk = values[at : at + spec.size]
            at += spec.size
            out[spec.name] = dequantize(np.array(chunk, dtype=object), spec.scale).reshape(
                spec.shape
            )
        return out


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
            flag = info.elem_type == onnx.TensorProto.BOOL
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
