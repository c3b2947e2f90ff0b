"""Bad input: every failure is a clear error naming the file, node, input or value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from circuits.errors import (
    InputRangeError,
    ModelError,
    QuantOverflowError,
    UnsupportedOpError,
)
from circuits.onnx.examples import _model, mlp, save, single_op
from circuits.onnx.inputs import load_samples
from circuits.onnx.loader import load_model
from circuits.onnx.quant import QuantConfig
from tests.circuits.onnx.onnx_harness import check_model, compile_model, rand


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save(mlp((4, 3, 1)), tmp_path_factory.mktemp("m") / "mlp.onnx")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nope\.onnx: cannot read"):
        load_model(tmp_path / "nope.onnx")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match=r"e\.onnx: the file is empty"):
        load_model(tmp_path / "e.onnx")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_truncated_file(mlp_file: Path, tmp_path: Path, keep: float) -> None:
    data = mlp_file.read_bytes()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelError, match=r"cut\.onnx: .*(truncated or corrupt)"):
        load_model(bad)


def test_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ModelError, match=r"junk\.onnx: .*(truncated or corrupt)"):
        load_model(bad)


def test_old_opset_the_converter_cannot_carry(tmp_path: Path) -> None:
    # onnx has no adapter for opset-1 Split
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])
    ys = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2]) for n in ("a", "b")]
    node = helper.make_node("Split", ["x"], ["a", "b"], axis=0, split=[1, 1])
    model = helper.make_model(
        helper.make_graph([node], "split", [x], ys), opset_imports=[helper.make_opsetid("", 1)]
    )
    model.ir_version = 8
    path = tmp_path / "old.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(
        ModelError, match=r"old\.onnx: opset 1 is older than 11 .* cannot upgrade operator 'Split'"
    ):
        load_model(path)


def _dyn_model(dims: list[str | int | None]) -> object:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    node = helper.make_node("Relu", ["x"], ["y"])
    return _model([node], [x], [helper.make_empty_tensor_value_info("y")], [], "dyn")


def test_dynamic_dim_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = save(_dyn_model([1, "N"]), tmp_path / "dyn.onnx")  # type: ignore[arg-type]
    with pytest.raises(
        ModelError, match=r"input 'x' has dynamic dim 'N' at axis 1; re-export with a fixed shape"
    ):
        load_model(path)


def test_dynamic_batch_dim_becomes_one(tmp_path: Path) -> None:
    path = save(_dyn_model(["batch", 3]), tmp_path / "batch.onnx")  # type: ignore[arg-type]
    graph = load_model(path)
    assert graph.inputs[0].shape == (1, 3)


def test_unsupported_op_names_op_node_and_opset() -> None:
    model = single_op("Mod", [(2, 2), (2, 2)])
    with pytest.raises(
        UnsupportedOpError, match=r"unsupported operator 'Mod' \(node 'mod_node', opset 17\)"
    ):
        compile_model(model)


def test_unsupported_attribute_names_node() -> None:
    model = single_op(
        "ScatterND",
        [(4, 2), (2, 2)],
        constants={"i": np.array([[0], [2]], np.int64)},
        order=["x0", "i", "x1"],
        reduction="median",
    )
    with pytest.raises(UnsupportedOpError, match=r"'ScatterND'.*scatternd_node.*'median'"):
        compile_model(model)


def test_wrong_input_name_and_shape() -> None:
    compiled = compile_model(mlp((4, 3, 1)))
    with pytest.raises(
        InputRangeError, match=r"unknown input\(s\) \['z'\]; the model takes \['x'\]"
    ):
        compiled.witness({"z": rand(1, 1, 4)})
    with pytest.raises(InputRangeError, match=r"no value for input 'x'"):
        compiled.witness({})
    with pytest.raises(InputRangeError, match=r"input 'x' has shape \[1, 5\], expected \[1, 4\]"):
        compiled.witness({"x": rand(1, 1, 5)})


def test_out_of_range_input_names_input_value_and_bound() -> None:
    compiled = compile_model(mlp((4, 3, 1)))
    x = np.array([[0.5, 200.0, 0.0, 1.0]])
    with pytest.raises(
        InputRangeError,
        match=r"input 'x'\[1\] = 200\.0 is outside the compiled range \[-128, 128\)",
    ):
        compiled.witness({"x": x})
    with pytest.raises(InputRangeError, match=r"input 'x'\[2\] is nan \(2 such values\).*impute"):
        compiled.witness({"x": np.array([[0, 0, np.nan, np.inf]])})


def test_accumulator_overflow_names_node() -> None:
    with pytest.raises(QuantOverflowError, match=r"node 'fc0'.*accumulator width of 40 bits"):
        compile_model(mlp((4, 3, 1)), QuantConfig(acc_bits=40, input_bits=26))


def test_activation_overflow_in_witness_names_node() -> None:
    compiled = compile_model(mlp((4, 3, 1), seed=2), QuantConfig(act_bits=8, output_bits=32))
    x = np.full((1, 4), 60.0)
    with pytest.raises(
        QuantOverflowError, match=r"node 'relu0 \(Relu\)': a value exceeds the range"
    ):
        compiled.witness({"x": x})


def test_sample_files(tmp_path: Path) -> None:
    p = tmp_path / "in.json"
    p.write_text('{"input_data": [[1, 2, 3]]}')
    with pytest.raises(
        InputRangeError, match=r"input 'x' has 3 values; expected 4 \(shape \[1, 4\]\)"
    ):
        load_samples(p, ["x"], [(1, 4)])
    p.write_text('{"y": [1, 2, 3, 4]}')
    with pytest.raises(InputRangeError, match=r"missing \['x'\], unknown \['y'\]"):
        load_samples(p, ["x"], [(1, 4)])
    p.write_text("{not json")
    with pytest.raises(InputRangeError, match=r"in\.json: not valid JSON"):
        load_samples(p, ["x"], [(1, 4)])
    p.write_text('{"input_data": [[1, 2, 3, 4, 5, 6, 7, 8]]}')
    assert [s["x"].tolist() for s in load_samples(p, ["x"], [(1, 4)])] == [
        [[1, 2, 3, 4]],
        [[5, 6, 7, 8]],
    ]


def test_relu_of_unit_inputs_matches_exactly() -> None:
    check_model(single_op("Relu", [(3,)]), {"x0": np.array([-1.0, 0.0, 1.0], np.float32)}, tol=0.0)
