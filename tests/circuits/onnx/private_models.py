"""Small models of every family with constants to commit, for the private-weights tests:
a linear ONNX-ML pipeline, tree ensembles, recurrent layers and elementwise affine ops."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.circuits.onnx import tree_builders as tb
from tests.circuits.onnx.ml_harness import data, export
from tests.circuits.onnx.rnn_builders import recurrent_model


def linear_pipeline() -> onnx.ModelProto:
    """StandardScaler (Scaler) then a three-class LogisticRegression (LinearClassifier)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, _, y3 = data(3, 120, 4)
    return export(make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y3), x)


def linear_regressor() -> onnx.ModelProto:
    from sklearn.linear_model import LinearRegression

    x, _, _ = data(4, 60, 3)
    return export(LinearRegression().fit(x, x @ np.array([1.0, -2.0, 0.5]) + 0.25), x)


def forest() -> onnx.ModelProto:
    from sklearn.ensemble import RandomForestClassifier

    x, _, y3 = data(1, 200, 4)
    est = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)
    return export(est.fit(x, y3), x)


def trees_max() -> onnx.ModelProto:
    """A hand-built regressor with every comparison mode and the MAX aggregate."""
    modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
    flat = tb.random_flat(0, 3, 3, 4, 2, modes)
    return tb.regressor_v3(flat, 4, 2, "MAX", [0.5, -0.25])


def affine() -> onnx.ModelProto:
    """x -> BatchNormalization (not after a layer: not folded) -> Mul -> Div -> Sub -> PRelu."""
    rng = np.random.default_rng(5)
    c = 3
    inits = {
        "g": rng.uniform(0.5, 1.5, c), "b": rng.uniform(-0.5, 0.5, c),
        "mu": rng.uniform(-0.2, 0.2, c), "var": rng.uniform(0.5, 2.0, c),
        "k": rng.uniform(-2, 2, (1, c, 1, 1)), "d": np.array([3.0]),
        "o": rng.uniform(-1, 1, (1, c, 1, 1)), "slope": rng.uniform(0.05, 0.5, (1, c, 1, 1)),
    }  # fmt: skip
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "mu", "var"], ["bn"], name="bn"),
        helper.make_node("Mul", ["bn", "k"], ["m"], name="mul"),
        helper.make_node("Div", ["m", "d"], ["q"], name="div"),
        helper.make_node("Sub", ["q", "o"], ["s"], name="sub"),
        helper.make_node("PRelu", ["s", "slope"], ["y"], name="prelu"),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "affine", [helper.make_tensor_value_info("x", f32, [1, c, 2, 2])],
        [helper.make_tensor_value_info("y", f32, [1, c, 2, 2])],
        initializer=[numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def transpose_einsum() -> onnx.ModelProto:
    """x -> ConvTranspose (weights and bias) -> Einsum with a constant channel mix."""
    rng = np.random.default_rng(6)
    inits = {"w": rng.uniform(-1, 1, (2, 2, 2, 2)), "bias": rng.uniform(-1, 1, 2),
             "mix": rng.uniform(-1, 1, (2, 3))}  # fmt: skip
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "bias"], ["t"], name="up", strides=[2, 2]),
        helper.make_node("Einsum", ["t", "mix"], ["y"], name="mix", equation="nchw,cd->ndhw"),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "transpose", [helper.make_tensor_value_info("x", f32, [1, 2, 2, 2])],
        [helper.make_tensor_value_info("y", f32, [1, 3, 4, 4])],
        initializer=[numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def lstm() -> onnx.ModelProto:
    return recurrent_model("LSTM", 3, 2, 3, peepholes=True, initial=True)


def gru() -> onnx.ModelProto:
    return recurrent_model("GRU", 2, 2, 3, direction="bidirectional", linear_before_reset=1)


def rnn() -> onnx.ModelProto:
    return recurrent_model("RNN", 3, 2, 3, direction="reverse")


FAMILIES: dict[str, Callable[[], onnx.ModelProto]] = {
    "linear": linear_pipeline,
    "linreg": linear_regressor,
    "forest": forest,
    "trees-max": trees_max,
    "affine": affine,
    "transpose-einsum": transpose_einsum,
    "lstm": lstm,
    "gru": gru,
    "rnn": rnn,
}


def sample(model: onnx.ModelProto, seed: int) -> np.ndarray:
    """An input for the model's one input, in [-1, 1] (integers for the hand-built trees,
    whose EQ nodes compare with integers)."""
    vi = model.graph.input[0]
    shape = [max(d.dim_value, 1) for d in vi.type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    if model.graph.node[0].op_type == "TreeEnsembleRegressor":
        return rng.integers(-2, 3, shape).astype(np.float32)
    return rng.uniform(-1, 1, shape).astype(np.float32)
