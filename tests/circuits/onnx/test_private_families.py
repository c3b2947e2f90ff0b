"""Private weights in every model family: trees, linear ONNX-ML models, recurrent layers,
BatchNorm and Mul/Div/Sub constants. Every mix gives the public circuit's outputs, the
commitment covers exactly the tensors the manifest lists, other weights do not satisfy a
registered statement, and no wire is left under-constrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import circuits
from circuits.commitment import Segment, commit, new_salt
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.visibility import Visibility
from circuits.testing import free_inverses, unpinned_wires
from tests.circuits.onnx.private_models import FAMILIES, sample

_CACHE: dict[tuple[str, Visibility], tuple[onnx.ModelProto, CompiledModel]] = {}
PUBLIC = Visibility()
MIXES = [Visibility("private", "private", "public"), Visibility("private", "public", "private")]
#: The committed tensors of each family, in commitment order (names node.slot).
COMMITTED = {
    "affine": ["bn.scale", "bn.B", "mul.B", "div.B", "sub.B", "prelu.slope"],
    "transpose-einsum": ["up.W", "up.B", "mix.Inputs"],
    "lstm": [
        "my_lstm.W[0]",
        "my_lstm.R[0]",
        "my_lstm.Wb[0]",
        "my_lstm.Rb[0]",
        "my_lstm.initial_h[0]",
        "my_lstm.initial_c[0]",
        "my_lstm.P[0]",
    ],
    "rnn": ["my_rnn.W[0]", "my_rnn.R[0]", "my_rnn.Wb[0]", "my_rnn.Rb[0]"],
}


def compiled(family: str, vis: Visibility = PUBLIC) -> tuple[onnx.ModelProto, CompiledModel]:
    key = (family, vis)
    if key not in _CACHE:
        model = _CACHE[(family, PUBLIC)][0] if (family, PUBLIC) in _CACHE else FAMILIES[family]()
        graph = load_model_bytes(model.SerializeToString(), f"{family}.onnx")
        _CACHE[key] = (model, compile_graph(graph, visibility=vis))
    return _CACHE[key]


def feed(family: str, seed: int = 0) -> dict[str, np.ndarray]:
    model, c = compiled(family)
    return {c.inputs[0].name: sample(model, seed)}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("vis", MIXES, ids=["weights-inputs", "weights-outputs"])
def test_every_mix_computes_the_public_outputs(family: str, vis: Visibility) -> None:
    _, pub = compiled(family)
    _, c = compiled(family, vis)
    assert c.private_weights, "the family commits no weight"
    salts = {k: new_salt() for k in c.salt_names}
    for seed in range(2):
        x = feed(family, seed)
        expected = pub.output_values(pub.witness(x))
        w = c.witness(x, 3, salts=salts)
        assert c.output_values(w) == expected
        parts = c.layout.parts(w.public)
        assert parts.weights_commitment == commit(c.weight_segments(), salts["weights"])
        if vis.outputs == "private":
            assert parts.output_commitment is not None
        else:
            assert parts.outputs == expected


def test_the_committed_tensors_are_the_models_constants() -> None:
    for family, names in COMMITTED.items():
        assert [t.name for t in compiled(family, MIXES[0])[1].private_weights] == names
    forest = [t.name for t in compiled("forest", MIXES[0])[1].private_weights]
    node = forest[0].split(".")[0]
    assert forest == [*(f"{node}.thresholds[{f}]" for f in range(len(forest) - 1)),
                      f"{node}.leaf_weights"]  # fmt: skip
    linear = [t.name.split(".", 1)[1] for t in compiled("linear", MIXES[0])[1].private_weights]
    assert linear == ["offset", "scale", "coefficients", "intercepts"]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_other_weights_do_not_satisfy_a_registered_statement(family: str) -> None:
    _, c = compiled(family, MIXES[0])
    salts = {k: new_salt() for k in c.salt_names}
    x = feed(family)
    honest = c.witness(x, salts=salts).public
    for t in c.private_weights:
        other = {u.name: list(u.values) for u in c.private_weights}
        other[t.name][len(t.values) // 2] += 1  # one value of one tensor, one step
        w = c.witness(x, check=False, salts=salts, weights=other)
        values = list(w.values)
        values[1 : 1 + len(honest)] = honest
        assert not c.circuit.cs.is_satisfied(values), t.name


@pytest.mark.parametrize("family", list(FAMILIES))
def test_private_weights_leave_no_under_constrained_wire(family: str) -> None:
    _, c = compiled(family, Visibility("private", "private", "private"))
    w = c.witness(feed(family), salts={k: new_salt() for k in c.salt_names})
    free = set(unpinned_wires(c.circuit.cs, w.values))
    assert free <= free_inverses(c.circuit, w.values), sorted(free)[:10]


def test_unsorted_committed_thresholds_are_refused() -> None:
    """A prover who reorders a feature's committed cut points (and commits to that) cannot
    satisfy the circuit: the sortedness proof fails before any commitment is compared."""
    _, c = compiled("forest", MIXES[0])
    t = next(t for t in c.private_weights if len(t.values) >= 2)
    other = {u.name: list(u.values) for u in c.private_weights}
    other[t.name][0], other[t.name][1] = other[t.name][1], other[t.name][0]
    w = c.witness(feed("forest"), check=False, salts={"inputs": 1, "weights": 2}, weights=other)
    assert not c.circuit.cs.is_satisfied(list(w.values))


def test_the_manifest_lists_what_is_committed(tmp_path: Path) -> None:
    model, _ = compiled("lstm")
    path = tmp_path / "lstm.onnx"
    path.write_bytes(model.SerializeToString())
    m = circuits.compile_model(path, tmp_path / "d", visibility=Visibility("private"))
    tensors = m.commitments["weights"]["tensors"]
    assert [t["name"] for t in tensors] == COMMITTED["lstm"]
    assert [t["shape"] for t in tensors] == [[2, 12], [3, 12], [1, 12], [1, 12], [1, 3], [1, 3],
                                             [9]]  # fmt: skip
    assert m.commitments["weights"]["count"] == 24 + 36 + 12 + 12 + 3 + 3 + 9
    loaded = circuits.load_model_dir(tmp_path / "d")
    segs = [Segment(t.name, t.bits, t.values) for t in loaded.compiled.private_weights]
    assert commit(segs, loaded.opening().salt) == m.weights_commitment


def test_an_integer_divisor_is_committed_and_divides_exactly() -> None:
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("Div", ["x", "d"], ["y"], name="div")
    graph = helper.make_graph(
        [node], "intdiv", [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [1, 2])],
        initializer=[numpy_helper.from_array(np.array([3, -2], dtype=np.int64), "d")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    c = compile_graph(load_model_bytes(model.SerializeToString(), "d.onnx"), visibility=MIXES[0])
    assert [(t.name, t.values) for t in c.private_weights] == [("div.B", (3, -2))]
    salts = {k: new_salt() for k in c.salt_names}
    x = {"x": np.array([[-7, 7]])}
    w = c.witness(x, salts=salts)
    y = c.dequantize_outputs(c.output_values(w))["y"]
    assert y.reshape(-1).tolist() == [-2, -3]  # truncated toward zero, as ONNX
    other = c.witness(x, check=False, salts=salts, weights={"div.B": [3, -3]})
    values = list(other.values)
    values[1 : 1 + len(w.public)] = w.public
    assert not c.circuit.cs.is_satisfied(values)
