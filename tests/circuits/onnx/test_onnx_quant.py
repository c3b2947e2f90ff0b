"""QuantConfig, quantize/dequantize, statement packing (vs the hub's Python mirror), calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.errors import BuildError, QuantOverflowError
from circuits.onnx.calibrate import calibrate
from circuits.onnx.examples import mlp
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.quant import QuantConfig, bits_for_bound, dequantize, quantize
from circuits.onnx.statement import Packing
from tests.circuits.onnx.onnx_harness import compile_model, rand, reference


def test_config_json_round_trip() -> None:
    # the pair fields accept mappings (through `replace`, as in the JSON reader)
    cfg = QuantConfig(act_scale=12).replace(
        approx={"sigmoid_segments": 16}, tensor_bits={"relu0": 10}
    )
    again = QuantConfig.from_json(cfg.to_json())
    assert again == cfg
    assert again.approx_param("sigmoid_segments", 4) == 16 and again.approx_param("other", 4) == 4
    assert again.bits_for("relu0") == 10 and again.bits_for("nope") == cfg.act_bits


@pytest.mark.parametrize(
    ("field", "value"), [("act_scale", -1), ("act_bits", 1), ("acc_bits", 250), ("input_bits", 127)]
)
def test_config_rejects_bad_values(field: str, value: int) -> None:
    with pytest.raises(BuildError, match=f"QuantConfig.{field}"):
        QuantConfig().replace(**{field: value})


def test_config_rejects_unknown_json_field() -> None:
    with pytest.raises(BuildError, match="unknown QuantConfig field"):
        QuantConfig.from_json({"act_scale": 8, "bogus": 1})


def test_quantize_rounds_half_away_from_zero() -> None:
    q = quantize(np.array([0.5, -0.5, 1.49, -2.5, 3.0]), 0)
    assert q.tolist() == [1, -1, 1, -3, 3]
    assert dequantize(quantize(np.array([0.25, -1.75]), 2), 2).tolist() == [0.25, -1.75]
    with pytest.raises(BuildError, match="NaN"):
        quantize(np.array([np.nan]), 4)


@given(st.integers(0, 2**100))
def test_bits_for_bound(bound: int) -> None:
    n = bits_for_bound(bound)
    assert -(1 << (n - 1)) <= -bound and bound < 1 << (n - 1)
    assert n == 2 or bound >= 1 << (n - 3)


@settings(max_examples=200)
@given(data=st.data(), bits=st.integers(2, 126), pack=st.booleans())
def test_packing_round_trips(data: st.DataObject, bits: int, pack: bool) -> None:
    half = 1 << (bits - 1)
    values = data.draw(st.lists(st.integers(-half, half - 1), min_size=1, max_size=30))
    packing = Packing.for_bits(bits, pack)
    words = packing.encode(values)
    assert len(words) == packing.word_count(len(values))
    assert packing.decode(words, len(values)) == values


@pytest.mark.parametrize("pack", [True, False])
def test_circuit_public_inputs_follow_the_layout(pack: bool) -> None:
    compiled = compile_model(mlp((4, 3, 2)), QuantConfig(pack=pack))
    x = rand(3, 1, 4)
    w = compiled.witness({"x": x}, binding=12345)
    q_in = compiled.quantize_inputs({"x": x})["x"]
    binding, ins, outs = compiled.layout.split(w.public)
    assert binding == 12345 and ins == q_in
    assert w.public == compiled.layout.public_inputs(12345, q_in, outs)
    assert compiled.layout.n_public == compiled.circuit.cs.n_public == (3 if pack else 1 + 4 + 2)
    assert compiled.circuit.cs.public_names[0] == "binding"


def test_calibration_fits_large_inputs() -> None:
    model = mlp((6, 12, 2), seed=4)
    graph = load_model_bytes(model.SerializeToString(), "m")
    rng = np.random.default_rng(0)
    samples = [{"x": rng.uniform(-60, 60, (1, 6))} for _ in range(12)]
    default = compile_model(model)
    with pytest.raises(QuantOverflowError):
        for s in samples:
            default.witness(s)
    cfg = calibrate(graph, samples)
    assert cfg.act_scale < 16 and cfg.input_bits <= 24
    compiled = compile_model(model, cfg)
    for s in samples[:4]:
        got = compiled.outputs_from_public(compiled.witness(s).public)["y"]
        want = reference(model, {"x": s["x"]})["y"]
        assert np.max(np.abs(got - want)) < 50 * 2.0**-cfg.act_scale


def test_calibration_raises_precision_for_small_values() -> None:
    model = mlp((6, 12, 2), seed=5)
    graph = load_model_bytes(model.SerializeToString(), "m")
    rng = np.random.default_rng(1)
    samples = [{"x": rng.uniform(-0.5, 0.5, (1, 6))} for _ in range(12)]
    cfg = calibrate(graph, samples)
    assert cfg.act_scale > 16
    compiled = compile_model(model, cfg)
    assert all(bits <= cfg.act_bits for _, bits in cfg.tensor_bits)
    assert cfg.output_bits < QuantConfig().output_bits
    got = compiled.outputs_from_public(compiled.witness(samples[0]).public)["y"]
    want = reference(model, {"x": samples[0]["x"]})["y"]
    assert np.max(np.abs(got - want)) < 2e-5
