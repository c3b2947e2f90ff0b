"""Load an ONNX model into the static graph the compiler walks.

`load_model` reads the file, runs the ONNX checker and strict shape inference, upgrades a
default-domain opset below 11 with onnx's version converter (naming the operator it
cannot carry), and requires every input shape to be static (a leading dynamic batch
dimension is fixed to 1; any other dynamic dimension is refused with the input, the axis
and the fix). Inputs are float, integer or boolean tensors. Initializers become numpy
constants. `fold_node` evaluates a node whose inputs are all constant (shape arithmetic,
initializer subgraphs) with the ONNX reference evaluator, so lowerings only ever see
computed tensors.

Every failure is a `ModelError` that starts with the file name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from circuits.errors import ModelError
from circuits.onnx.graph import FLOAT_INPUTS, INT_INPUTS
from circuits.onnx.graph import OnnxGraph as OnnxGraph
from circuits.onnx.graph import TensorInfo as TensorInfo
from circuits.onnx.ml_isolation import rewrite_isolation_forest
from circuits.onnx.tensor import Const

MIN_OPSET = 11
#: The ONNX-ML domain and the newest of its opsets the lowerings implement.
ML_DOMAIN = "ai.onnx.ml"
MAX_ML_OPSET = 5
#: Default-domain operators whose semantics did not change between opset 7 and 11.
_STABLE_SINCE_7 = frozenset({"Cast", "Identity", "Add", "Sub", "Mul", "Div", "Concat"})


def load_model(path: str | Path) -> OnnxGraph:
    """Read and check the ONNX file at `path`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ModelError(f"{p}: cannot read the ONNX file: {e.strerror or e}") from e
    return load_model_bytes(data, str(p))


def load_model_bytes(data: bytes, name: str = "<model>") -> OnnxGraph:
    """Check a serialized model; `name` is used in error messages."""
    if not data:
        raise ModelError(f"{name}: the file is empty, not an ONNX model")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises DecodeError and friends
        raise ModelError(f"{name}: not a valid ONNX file (truncated or corrupt?): {e}") from e
    if not model.HasField("graph") or not model.graph.node:
        raise ModelError(f"{name}: no graph with nodes in the file (truncated or corrupt?)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ModelError(
            f"{name}: the ONNX checker rejects the model (truncated or corrupt?): {e}"
        ) from e
    model, opset = _upgrade(model, name)
    model = rewrite_isolation_forest(model)
    constants = {t.name: _const(numpy_helper.to_array(t)) for t in model.graph.initializer}
    inputs = tuple(_input_info(v, name) for v in model.graph.input if v.name not in constants)
    if not inputs:
        raise ModelError(f"{name}: the graph has no input that is not an initializer")
    _refuse_dynamic_sequences(model, name)
    _fix_inputs(model, inputs)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:
        raise ModelError(f"{name}: shape inference failed: {e}") from e
    outputs = tuple(_output_info(v, name) for v in inferred.graph.output)
    return OnnxGraph(
        path=name,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        opset=opset,
        inputs=inputs,
        outputs=outputs,
        constants=constants,
        nodes=tuple(inferred.graph.node),
    )


def _upgrade(model: onnx.ModelProto, name: str) -> tuple[onnx.ModelProto, int]:
    """The model at a default-domain opset of at least `MIN_OPSET`: older models go through
    onnx's version converter (or, when they only name operators unchanged since opset 7,
    are read as `MIN_OPSET` directly); a model importing no default-domain opset (e.g. a
    pure ai.onnx.ml export) has no default-domain node, so it is given `MIN_OPSET`."""
    ml = [o.version for o in model.opset_import if o.domain == ML_DOMAIN]
    if ml and max(ml) > MAX_ML_OPSET:
        raise ModelError(
            f"{name}: ai.onnx.ml opset {max(ml)} is newer than {MAX_ML_OPSET}, the newest "
            "this compiler knows; re-export with target_opset={'ai.onnx.ml': 3}"
        )
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not versions:
        model.opset_import.append(helper.make_opsetid("", MIN_OPSET))
        return model, MIN_OPSET
    v = int(max(versions))
    if v >= MIN_OPSET:
        return model, v
    if _old_opset_ok(model, v):
        return model, MIN_OPSET
    from onnx import version_converter

    try:
        upgraded = version_converter.convert_version(model, MIN_OPSET)
        onnx.checker.check_model(upgraded)
    except Exception as e:
        op = _failing_op(model, str(e))
        raise ModelError(
            f"{name}: opset {v} is older than {MIN_OPSET} and onnx's version converter cannot "
            f"upgrade {op}: {_first_line(e)}; re-export the model with opset >= {MIN_OPSET} "
            "(e.g. torch.onnx.export(..., opset_version=17))"
        ) from e
    return upgraded, MIN_OPSET


def _failing_op(model: onnx.ModelProto, message: str) -> str:
    """The operator a converter message is about (its adapters are named after the op),
    else the list of the model's default-domain operators."""
    ops = sorted({n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")})
    text = message.lower().replace("_", "")
    named = [op for op in ops if op.lower() in text]
    if named:
        return f"operator {max(named, key=len)!r}"
    return f"one of the operators {ops}"


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def _default_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.domain in ("", "ai.onnx")]


def _old_opset_ok(model: onnx.ModelProto, v: int) -> bool:
    """True when an opset below `MIN_OPSET` only names default-domain operators whose
    semantics have not changed since opset 7 (scikit-learn exporters write opset 9 around
    ONNX-ML graphs: a Cast of the label, an Identity); such a graph compiles as opset 11."""
    return v >= 7 and all(n.op_type in _STABLE_SINCE_7 for n in _default_nodes(model))


def _const(a: np.ndarray[Any, Any]) -> Const:
    # Constants keep their ONNX dtype so that folding follows the model's type rules;
    # quantization converts them to float64 on its own.
    return np.asarray(a)


def _input_info(v: onnx.ValueInfoProto, name: str) -> TensorInfo:
    t = v.type.tensor_type
    if not v.type.HasField("tensor_type") or not t.HasField("shape"):
        raise ModelError(
            f"{name}: input {v.name!r} has no static tensor shape; re-export with a fixed shape"
        )
    if t.elem_type not in FLOAT_INPUTS + INT_INPUTS:
        kind = TensorProto.DataType.Name(t.elem_type)
        raise ModelError(
            f"{name}: input {v.name!r} has element type {kind}; only float, integer and "
            "boolean inputs are supported"
        )
    dims: list[int] = []
    for axis, d in enumerate(t.shape.dim):
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif axis == 0:
            dims.append(1)  # a dynamic batch dimension: one inference per proof
        else:
            label = repr(d.dim_param) if d.dim_param else "of unknown size"
            raise ModelError(
                f"{name}: input {v.name!r} has dynamic dim {label} at axis {axis}; "
                "re-export with a fixed shape"
            )
    return TensorInfo(v.name, tuple(dims), t.elem_type)


def _refuse_dynamic_sequences(model: onnx.ModelProto, name: str) -> None:
    """A dynamic axis 0 is read as a batch of one, but for a recurrent layer's input in
    layout 0 it is the sequence: the circuit would silently stop after one step."""
    dynamic = {
        v.name
        for v in model.graph.input
        if v.type.tensor_type.shape.dim and not v.type.tensor_type.shape.dim[0].dim_value
    }
    for node in model.graph.node:
        layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
        if node.op_type in ("LSTM", "GRU", "RNN") and not layout and node.input[0] in dynamic:
            raise ModelError(
                f"{name}: node {node.name!r} ({node.op_type}) reads input {node.input[0]!r}, "
                "whose sequence length (axis 0) is dynamic; re-export with a fixed sequence "
                "length (no dynamic_axes on the time axis)"
            )


def _fix_inputs(model: onnx.ModelProto, inputs: tuple[TensorInfo, ...]) -> None:
    by_name = {i.name: i for i in inputs}
    for v in model.graph.input:
        info = by_name.get(v.name)
        if info is None:
            continue
        for d, size in zip(v.type.tensor_type.shape.dim, info.shape, strict=True):
            d.Clear()
            d.dim_value = size


def _output_info(v: onnx.ValueInfoProto, name: str) -> TensorInfo:
    t = v.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
    return TensorInfo(v.name, tuple(dims), t.elem_type)


def fold_node(node: onnx.NodeProto, inputs: list[Const | None], opset: int) -> list[Const]:
    """The outputs of a node whose inputs are all constant (ONNX reference semantics)."""
    from onnx.reference import ReferenceEvaluator

    feeds = {n: v for n, v in zip(node.input, inputs, strict=True) if n and v is not None}
    try:
        ev = ReferenceEvaluator(node, opsets={"": opset})
        outs = ev.run(None, feeds)
    except Exception as e:
        raise ModelError(
            f"node {node.name!r} ({node.op_type}): constant folding failed: {e}"
        ) from e
    return [_const(np.asarray(o)) for o in outs]


def constant_value(node: onnx.NodeProto) -> Const:
    """The value of a Constant node."""
    for a in node.attribute:
        if a.name == "value":
            return _const(numpy_helper.to_array(a.t))
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    for key, dtype in (
        ("value_float", np.float64),
        ("value_floats", np.float64),
        ("value_int", np.int64),
        ("value_ints", np.int64),
    ):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise ModelError(f"Constant node {node.name!r}: unsupported value attribute {sorted(attrs)}")
