"""Small ONNX models built with onnx.helper, for tests, benchmarks and demos.

* `mlp`: Dense layers (Gemm, transB = 1 as PyTorch exports them) with ReLU between them
  and an optional head (Sigmoid, Tanh, Softmax...); random weights from a seed or given
  ones (e.g. fitted by a demo on generated data).
* `cnn`: 1 x C x H x W -> Conv (k x k) -> ReLU -> Flatten -> Dense.
* `single_op`: a one-node model around any operator, for per-op tests.

Weights are drawn like PyTorch's default init (uniform in +-1/sqrt(fan_in)).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Opset the builders target (any opset >= 11 compiles).
OPSET = 17

FloatArray = npt.NDArray[np.float64]
Layer = tuple[FloatArray, FloatArray]  # (W of shape (out, in), b of shape (out,))


def _init(name: str, arr: npt.ArrayLike) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    inits: list[onnx.TensorProto],
    name: str,
    opset: int = OPSET,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="zkoracle"
    )
    model.ir_version = min(model.ir_version, 8)
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    return model


def random_layers(sizes: Sequence[int], seed: int = 0) -> list[Layer]:
    """Random (W, b) for Dense layers sizes[0] -> sizes[1] -> ... (PyTorch-style init)."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        lim = 1.0 / np.sqrt(n_in)
        layers.append((rng.uniform(-lim, lim, (n_out, n_in)), rng.uniform(-lim, lim, n_out)))
    return layers


def mlp(
    sizes: Sequence[int] = (8, 16, 1),
    *,
    head: str | None = None,
    seed: int = 0,
    layers: Sequence[Layer] | None = None,
    input_name: str = "x",
    output_name: str = "y",
) -> onnx.ModelProto:
    """Dense -> ReLU -> ... -> Dense [-> head]; input (1, sizes[0]), output (1, sizes[-1])."""
    ls = list(layers) if layers is not None else random_layers(sizes, seed)
    nodes, inits, cur = [], [], input_name
    for i, (w, b) in enumerate(ls):
        inits += [_init(f"fc{i}.weight", w), _init(f"fc{i}.bias", b)]
        out = f"fc{i}"
        nodes.append(
            helper.make_node(
                "Gemm", [cur, f"fc{i}.weight", f"fc{i}.bias"], [out], name=f"fc{i}", transB=1
            )
        )
        cur = out
        if i < len(ls) - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"relu{i}"], name=f"relu{i}"))
            cur = f"relu{i}"
    if head is not None:
        nodes.append(helper.make_node(head, [cur], [output_name], name=head.lower()))
    else:
        nodes[-1].output[0] = output_name
    n_in, n_out = ls[0][0].shape[1], ls[-1][0].shape[0]
    x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, n_in])
    y = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, n_out])
    return _model(nodes, [x], [y], inits, "mlp")


def cnn(
    *,
    channels: int = 1,
    size: int = 8,
    filters: int = 4,
    kernel: int = 3,
    classes: int = 2,
    seed: int = 0,
) -> onnx.ModelProto:
    """1 x C x S x S -> Conv(filters, k x k) -> ReLU -> Flatten -> Dense(classes)."""
    rng = np.random.default_rng(seed)
    fan = channels * kernel * kernel
    lim = 1.0 / np.sqrt(fan)
    w = rng.uniform(-lim, lim, (filters, channels, kernel, kernel))
    b = rng.uniform(-lim, lim, filters)
    flat = filters * (size - kernel + 1) ** 2
    ((dw, db),) = random_layers([flat, classes], seed + 1)
    inits = [
        _init("conv.weight", w),
        _init("conv.bias", b),
        _init("fc.weight", dw),
        _init("fc.bias", db),
    ]
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "conv.weight", "conv.bias"],
            ["conv"],
            name="conv",
            kernel_shape=[kernel, kernel],
        ),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("Flatten", ["relu"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["y"], name="fc", transB=1),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])
    return _model(nodes, [x], [y], inits, "cnn")


def transformer_block(
    seq: int = 4, dim: int = 8, hidden: int = 16, seed: int = 0
) -> onnx.ModelProto:
    """x (1, seq, dim) -> LayerNorm -> single-head attention (Q K^T / sqrt(dim), Softmax,
    @ V) -> + x -> LayerNorm -> Dense(hidden) -> Gelu -> Dense(dim) -> + residual."""
    rng = np.random.default_rng(seed)

    def w(name: str, *shape: int) -> onnx.TensorProto:
        return _init(name, rng.uniform(-1, 1, shape) / np.sqrt(shape[0]))

    inits = [
        _init("ln1.s", np.ones(dim)), _init("ln1.b", np.zeros(dim)),
        _init("ln2.s", np.ones(dim)), _init("ln2.b", np.zeros(dim)),
        w("wq", dim, dim), w("wk", dim, dim), w("wv", dim, dim),
        w("w1", dim, hidden), w("w2", hidden, dim),
        _init("inv_sqrt_d", np.array(1.0 / np.sqrt(dim))),
    ]  # fmt: skip
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "ln1.s", "ln1.b"], ["h"], name="ln1", axis=-1),
        n("MatMul", ["h", "wq"], ["q"], name="q"),
        n("MatMul", ["h", "wk"], ["k"], name="k"),
        n("MatMul", ["h", "wv"], ["v"], name="v"),
        n("Transpose", ["k"], ["kt"], name="kt", perm=[0, 2, 1]),
        n("MatMul", ["q", "kt"], ["qk"], name="qk"),
        n("Mul", ["qk", "inv_sqrt_d"], ["scores"], name="scale"),
        n("Softmax", ["scores"], ["attn"], name="softmax", axis=-1),
        n("MatMul", ["attn", "v"], ["ctx"], name="ctx"),
        n("Add", ["x", "ctx"], ["r1"], name="res1"),
        n("LayerNormalization", ["r1", "ln2.s", "ln2.b"], ["h2"], name="ln2", axis=-1),
        n("MatMul", ["h2", "w1"], ["f1"], name="ff1"),
        n("Gelu", ["f1"], ["g"], name="gelu"),
        n("MatMul", ["g", "w2"], ["f2"], name="ff2"),
        n("Add", ["r1", "f2"], ["y"], name="res2"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, dim])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, dim])
    return _model(nodes, [x], [y], inits, "transformer_block", opset=20)


def quantized_mlp(sizes: Sequence[int] = (8, 16, 4), seed: int = 0) -> onnx.ModelProto:
    """`mlp(sizes)` quantized with onnxruntime's static quantizer (QDQ, uint8 activations,
    int8 weights), calibrated on 32 random inputs in [-1, 1]."""
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static

    rng = np.random.default_rng(seed)
    data = [{"x": rng.uniform(-1, 1, (1, sizes[0])).astype(np.float32)} for _ in range(32)]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(data)

        def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
            return next(self.it, None)

    with tempfile.TemporaryDirectory(prefix="zkoracle-quant-") as tmp:
        fp32 = save(mlp(sizes, seed=seed), Path(tmp) / "fp32.onnx")
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(fp32), str(out), Reader(),
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip
        return onnx.load(str(out))


def single_op(
    op_type: str,
    input_shapes: Sequence[Sequence[int]],
    *,
    constants: dict[str, Any] | None = None,
    order: Sequence[str] | None = None,
    n_outputs: int = 1,
    opset: int = OPSET,
    **attrs: Any,
) -> onnx.ModelProto:
    """A model with one node. Computed inputs are named x0, x1...; `constants` maps more
    input names to initializer values; the node reads x0.. then the constants, or the
    names in `order` ("" for an omitted optional input). Outputs y0, y1..., typed by
    shape inference."""
    consts = dict(constants or {})
    xs = [f"x{i}" for i in range(len(input_shapes))]
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
        for n, s in zip(xs, input_shapes, strict=True)
    ]
    inits = []
    for k, v in consts.items():
        arr = np.asarray(v)
        inits.append(
            numpy_helper.from_array(arr.astype(np.float32) if arr.dtype.kind == "f" else arr, k)
        )
    names = list(order) if order is not None else xs + list(consts)
    ys = [f"y{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, names, ys, name=f"{op_type.lower()}_node", **attrs)
    outputs = [helper.make_empty_tensor_value_info(y) for y in ys]
    return _model([node], inputs, outputs, inits, op_type, opset)


def save(model: onnx.ModelProto, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(p))
    return p


def save_mlp(path: str | Path, layers: Sequence[Layer], *, head: str | None = None) -> Path:
    """Write an MLP with the given (W, b) layers and optional head to `path` as ONNX."""
    sizes = [layers[0][0].shape[1], *(w.shape[0] for w, _ in layers)]
    return save(mlp(sizes, head=head, layers=layers), path)
