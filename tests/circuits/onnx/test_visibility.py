"""Private weights, inputs and outputs, claims: equal results, commitments that bind, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

import circuits
from circuits.commitment import Segment, commit, new_salt
from circuits.errors import FormatError, InputRangeError, ModelError
from circuits.onnx import examples
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.opening import OPENING_FILE, WeightsOpening
from circuits.onnx.visibility import Claim, ClaimSyntaxError, Visibility
from circuits.testing import free_inverses, unpinned_wires

FAMILIES: dict[str, Callable[[], onnx.ModelProto]] = {
    "mlp": lambda: examples.mlp((8, 16, 1)),
    "cnn": lambda: examples.cnn(size=5, filters=2),
}
MIXES = [
    Visibility("private"),
    Visibility("public", "private", "private"),
    Visibility("private", "private", "public"),
    Visibility("private", "public", "public", Claim.parse("y[1] >= -0.05")),
]
_CACHE: dict[tuple[str, Visibility], CompiledModel] = {}
PUBLIC = Visibility()


def compiled(family: str, vis: Visibility = PUBLIC) -> CompiledModel:
    key = (family, vis)
    if key not in _CACHE:
        graph = load_model_bytes(FAMILIES[family]().SerializeToString(), family)
        _CACHE[key] = compile_graph(graph, visibility=vis)
    return _CACHE[key]


def sample(family: str, seed: int = 0) -> dict[str, np.ndarray]:
    shape = compiled(family).inputs[0].shape
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape)}


def salts_for(c: CompiledModel) -> dict[str, int]:
    return {k: new_salt() for k in c.salt_names}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("vis", MIXES, ids=lambda v: "-".join(str(x) for x in v.to_json().values()))
def test_every_mix_computes_the_public_outputs(family: str, vis: Visibility) -> None:
    if vis.claim is not None and family == "mlp":
        vis = Visibility(vis.weights, vis.inputs, vis.outputs, Claim.parse("y < 0.05"))
    pub, c = compiled(family), compiled(family, vis)
    x = sample(family)
    salts = salts_for(c)
    w = c.witness(x, 7, salts=salts)
    expected = pub.output_values(pub.witness(x))
    assert c.output_values(w) == expected
    parts = c.layout.parts(w.public)
    assert parts.binding == 7
    q_in = pub.quantize_inputs(x)["x"]
    if vis.inputs == "private":
        assert parts.input_commitment == commit(
            [Segment("x", c.config.input_bits, tuple(q_in))], salts["inputs"]
        )
    else:
        assert parts.inputs == q_in
    if vis.claim is not None:
        t, holds = parts.claim or (0, 0)
        lhs = expected[vis.claim.index]
        assert holds == int(lhs < t if vis.claim.op == "<" else lhs >= t)
    elif vis.outputs == "private":
        seg = Segment("y", c.config.output_bits, tuple(expected))
        assert parts.output_commitment == commit([seg], salts["outputs"])
    else:
        assert parts.outputs == expected
    if vis.weights == "private":
        assert parts.weights_commitment == commit(c.weight_segments(), salts["weights"])


def _rejects(c: CompiledModel, public: list[int], **kw: object) -> bool:
    """True when no witness of `kw` satisfies the system under the statement `public`."""
    w = c.witness(sample("mlp"), check=False, **kw)  # type: ignore[arg-type]
    values = list(w.values)
    values[1 : 1 + len(public)] = public
    return not c.circuit.cs.is_satisfied(values)


def test_other_weights_inputs_or_salts_do_not_satisfy_a_registered_statement() -> None:
    c = compiled("mlp", Visibility("private", "private", "public"))
    salts = salts_for(c)
    honest = c.witness(sample("mlp"), salts=salts).public
    assert not _rejects(c, honest, salts=salts)
    other = {t.name: list(t.values) for t in c.private_weights}
    other["fc0.B"][3] += 1  # one weight changed by one step
    assert _rejects(c, honest, salts=salts, weights=other)
    assert _rejects(c, honest, salts={**salts, "inputs": salts["inputs"] ^ 1})
    assert _rejects(c, honest, salts={**salts, "weights": salts["weights"] + 1})
    w2 = c.witness(sample("mlp", seed=1), check=False, salts=salts)
    values = list(w2.values)
    values[1 : 1 + len(honest)] = honest  # other inputs under the posted commitment
    assert not c.circuit.cs.is_satisfied(values)


def test_private_weights_leave_no_under_constrained_wire() -> None:
    c = compiled("cnn", Visibility("private", "private", "private"))
    w = c.witness(sample("cnn"), salts=salts_for(c))
    free = set(unpinned_wires(c.circuit.cs, w.values))
    assert free <= free_inverses(c.circuit, w.values), sorted(free)[:10]


def test_private_weights_cost_per_weight_is_reported(tmp_path: Path) -> None:
    onnx_path = examples.save(FAMILIES["mlp"](), tmp_path / "m.onnx")
    m = circuits.compile_model(onnx_path, tmp_path / "d", visibility=Visibility("private"))
    assert m.commitments["weights"]["count"] == 8 * 16 + 16 + 16 + 1
    assert [n.op_type for n in m.nodes][-1] == "Commitment"
    opening = WeightsOpening.load(
        tmp_path / "d" / OPENING_FILE,
        circuits.load_model_dir(tmp_path / "d").compiled.private_weights,
    )
    assert opening.commitment == m.weights_commitment
    loaded = circuits.LoadedModel.load(tmp_path / "d")  # recompiles to the same R1CS
    assert loaded.manifest.visibility == Visibility("private")


def test_proofs_bind_the_commitments(tmp_path: Path) -> None:
    onnx_path = examples.save(FAMILIES["mlp"](), tmp_path / "m.onnx")
    d = tmp_path / "d"
    circuits.compile_model(onnx_path, d, visibility=Visibility("private", "private", "public"))
    circuits.setup(d)
    res = circuits.prove(d, sample("mlp"), binding=5)
    assert circuits.verify(d, res.public, res.proof)
    c = circuits.load_model_dir(d).compiled
    other = c.weight_segments()
    other[0] = Segment(other[0].name, other[0].bits, (other[0].values[0] + 1, *other[0].values[1:]))
    forged = [*res.public[:-1], commit(other, circuits.load_model_dir(d).opening().salt)]
    assert not circuits.verify(d, forged, res.proof)
    q = c.quantize_inputs(sample("mlp"))["x"]
    resalted = commit([Segment("x", c.config.input_bits, tuple(q))], res.salts["inputs"] ^ 1)
    assert not circuits.verify(d, [res.public[0], resalted, *res.public[2:]], res.proof)
    again = circuits.prove(d, sample("mlp"), binding=5, salts=res.salts)
    assert again.public == res.public  # the same salts open the same commitment


def test_missing_salt_and_bad_openings_are_named(tmp_path: Path) -> None:
    c = compiled("mlp", Visibility("private", "private", "public"))
    with pytest.raises(InputRangeError, match="commitment to the inputs: a salt"):
        c.witness(sample("mlp"), salts={"weights": 1})
    path = tmp_path / "opening.json"
    WeightsOpening.of(c.private_weights, 3).save(path, c.private_weights)
    doc = json.loads(path.read_text())
    doc["tensors"][0]["values"] = doc["tensors"][0]["values"][:-1]
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"tensor 'fc0.B' has 127 values, shape \[8, 16\]"):
        WeightsOpening.load(path, c.private_weights)
    doc["tensors"] = doc["tensors"][:2]
    path.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="2 tensors, the model commits to 4"):
        WeightsOpening.load(path, c.private_weights)


@pytest.mark.parametrize("text", ["y[0] = 0.2", "y[0] < ", "< 0.2", "y[a] < 1", "y[0] << 1"])
def test_bad_claims_are_refused(text: str) -> None:
    with pytest.raises(ClaimSyntaxError, match="OUTPUT"):
        Claim.parse(text)


def test_claims_on_unknown_outputs_are_named() -> None:
    graph = load_model_bytes(FAMILIES["mlp"]().SerializeToString(), "mlp")
    with pytest.raises(ModelError, match="no output 'p'"):
        compile_graph(graph, visibility=Visibility(claim=Claim.parse("p[0] < 1")))
    with pytest.raises(ModelError, match="1 element"):
        compile_graph(graph, visibility=Visibility(claim=Claim.parse("y[3] < 1")))
    assert Claim.parse(" probabilities[1]<=.2 ") == Claim("probabilities", 1, "<=", 0.2)
