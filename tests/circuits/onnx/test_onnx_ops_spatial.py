"""Einsum, ConvTranspose, Resize and 3-D Conv / pools against onnxruntime (witness only)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper

from circuits.onnx.examples import _model, single_op
from tests.circuits.onnx.onnx_harness import check_model, rand

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(4,), (4,)]),
    ("ij->ji", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_computed(eq: str, shapes: list[tuple[int, ...]]) -> None:
    model = single_op("Einsum", shapes, equation=eq)
    check_model(model, {f"x{i}": rand(i, *s) for i, s in enumerate(shapes)}, 2e-4)


def test_einsum_with_constant_is_free() -> None:
    w = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)
    model = single_op("Einsum", [(2, 3)], constants={"w": w}, equation="ij,jk->ik")
    compiled, _ = check_model(model, {"x0": rand(1, 2, 3)}, 1e-4)
    assert compiled.nodes[1].constraints == 0


CONVT = [
    ({"strides": [2, 2]}, (1, 2, 3, 3), (2, 3, 3, 3)),
    (
        {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
        (1, 1, 3, 3),
        (1, 2, 3, 3),
    ),
    ({"group": 2}, (1, 2, 3, 3), (2, 1, 2, 2)),
    ({"strides": [1], "dilations": [2]}, (1, 1, 5), (1, 2, 3)),
    ({"strides": [2, 2], "output_shape": [7, 7]}, (1, 1, 3, 3), (1, 1, 3, 3)),
]


@pytest.mark.parametrize("attrs,xs,ws", CONVT)
def test_conv_transpose(attrs: dict[str, Any], xs: tuple[int, ...], ws: tuple[int, ...]) -> None:
    w = rand(9, *ws)
    b = rand(10, ws[1] * attrs.get("group", 1))
    model = single_op("ConvTranspose", [xs], constants={"w": w, "b": b}, **attrs)
    compiled, _ = check_model(model, {"x0": rand(3, *xs)}, 2e-4)
    assert compiled.nodes[1].constraints == 0


def _resize(mode: str, scales: list[float] | None, sizes: list[int] | None, **attrs: Any) -> object:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4])
    inits = [helper.make_tensor("roi", TensorProto.FLOAT, [0], [])]
    names = ["x", "roi"]
    if scales is not None:
        inits.append(helper.make_tensor("scales", TensorProto.FLOAT, [4], scales))
        names.append("scales")
    else:
        inits.append(helper.make_tensor("sizes", TensorProto.INT64, [4], sizes or []))
        names += ["", "sizes"]
    node = helper.make_node("Resize", names, ["y"], mode=mode, **attrs)
    y = helper.make_empty_tensor_value_info("y")
    return _model([node], [x], [y], inits, "resize", opset=18)


RESIZE = [
    ("nearest", [1.0, 1.0, 2.0, 1.5], None, {}),
    ("nearest", None, [1, 2, 5, 7], {"nearest_mode": "floor"}),
    ("linear", [1.0, 1.0, 2.0, 2.0], None, {}),
    ("linear", None, [1, 2, 2, 3], {"coordinate_transformation_mode": "align_corners"}),
    ("cubic", [1.0, 1.0, 1.5, 2.0], None, {}),
    ("linear", [1.0, 1.0, 0.5, 0.5], None, {"antialias": 1}),
]


@pytest.mark.parametrize("mode,scales,sizes,attrs", RESIZE)
def test_resize(
    mode: str, scales: list[float] | None, sizes: list[int] | None, attrs: dict[str, Any]
) -> None:
    model = _resize(mode, scales, sizes, **attrs)
    compiled, _ = check_model(model, {"x": rand(4, 1, 2, 3, 4)}, 2e-4)  # type: ignore[arg-type]
    if mode == "nearest":
        assert compiled.nodes[1].constraints == 0


@pytest.mark.parametrize(
    "op,attrs",
    [
        ("Conv", {}),
        ("MaxPool", {"kernel_shape": [2, 2, 2]}),
        ("AveragePool", {"kernel_shape": [2, 2, 2], "strides": [1, 2, 2]}),
    ],
)
def test_3d_windows(op: str, attrs: dict[str, Any]) -> None:
    consts = {"w": rand(5, 2, 1, 2, 2, 2)} if op == "Conv" else {}
    model = single_op(op, [(1, 1, 3, 4, 4)], constants=consts, **attrs)
    check_model(model, {"x0": rand(6, 1, 1, 3, 4, 4)}, 2e-4)
