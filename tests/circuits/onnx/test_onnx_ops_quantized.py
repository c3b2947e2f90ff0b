"""Models quantized with onnxruntime's quantizer, and the quantized operators one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from circuits.onnx.examples import _model, mlp, save
from tests.circuits.onnx.onnx_harness import check_model, rand


def _q(name: str, dtype: int, dims: list[int], vals: list[float]) -> onnx.TensorProto:
    return helper.make_tensor(name, dtype, dims, vals)


def test_quantize_dequantize_roundtrip() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])
    q = helper.make_tensor_value_info("q", TensorProto.UINT8, [2, 5])
    inits = [_q("s", TensorProto.FLOAT, [], [0.02]), _q("z", TensorProto.UINT8, [], [128])]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"]),
    ]
    model = _model(nodes, [x], [y, q], inits, "qdq")
    xs = rand(1, 2, 5, scale=3.0)  # beyond the uint8 range: saturates
    xs = np.round(xs / 0.02 + 0.25) * 0.02 + 0.003  # away from rounding ties
    check_model(model, {"x": xs}, 1e-3)  # the scale 0.02 is quantized at 2^-16


def test_qlinear_matmul_and_matmul_integer() -> None:
    a = helper.make_tensor_value_info("a", TensorProto.UINT8, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.UINT8, [2, 2])
    yi = helper.make_tensor_value_info("yi", TensorProto.INT32, [2, 2])
    inits = [
        _q("as", TensorProto.FLOAT, [], [0.05]),
        _q("az", TensorProto.UINT8, [], [120]),
        _q("b", TensorProto.INT8, [3, 2], [10, -20, 30, 5, -7, 100]),
        _q("bs", TensorProto.FLOAT, [], [0.01]),
        _q("bz", TensorProto.INT8, [], [0]),
        _q("ys", TensorProto.FLOAT, [], [0.03]),
        _q("yz", TensorProto.UINT8, [], [100]),
    ]
    nodes = [
        helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"]),
        helper.make_node("MatMulInteger", ["a", "b", "az", "bz"], ["yi"]),
    ]
    model = _model(nodes, [a], [y, yi], inits, "qmm")
    check_model(model, {"a": np.array([[0, 255, 130], [7, 121, 200]])}, 1.0 + 1e-9)


def test_static_quantized_mlp(tmp_path: Path) -> None:
    """quantize_static (QDQ) of a small MLP: the circuit follows onnxruntime's own
    quantized inference within a few steps of the 8-bit grid."""
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static

    fp32 = save(mlp((4, 8, 2)), tmp_path / "f.onnx")
    data = [{"x": rand(i, 1, 4)} for i in range(16)]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(data)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    out = tmp_path / "q.onnx"
    quantize_static(str(fp32), str(out), Reader(), activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)  # fmt: skip
    model = onnx.load(str(out))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    check_model(model, {"x": rand(99, 1, 4)}, 0.05)
