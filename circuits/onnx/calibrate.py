"""Calibration: pick scales and widths from sample inputs, and measure error vs onnxruntime.

`calibrate` runs the float model (onnxruntime) on the samples with every intermediate
tensor exposed, takes the largest magnitude of each, multiplies it by `MARGIN` for inputs
the samples do not show, and chooses:

* ``act_scale`` = ``input_scale``: as many fraction bits as ``act_bits`` allow for the
  largest activation (more fraction bits, smaller error), within [`MIN_SCALE`, `MAX_SCALE`];
* ``input_bits`` / ``output_bits``: just wide enough for the inputs / outputs seen;
* ``tensor_bits``: per node, the width of its rescale: enough for the largest of its input
  and output tensors, never more than ``act_bits`` (fewer constraints for small tensors).

``act_bits`` is widened when the largest activation needs more bits than it has even at
`MIN_SCALE`; a sample no circuit can carry raises `CalibrationError` naming the input or
tensor, the magnitude and the limit. A sample outside the margin later fails in the
witness with an error naming the node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper

from circuits.errors import CalibrationError, ModelError
from circuits.onnx.inputs import Sample
from circuits.onnx.loader import OnnxGraph, TensorInfo
from circuits.onnx.quant import QuantConfig, bits_for_bound

#: Head room over the largest magnitude the samples show.
MARGIN = 2.0
MIN_SCALE = 8
MAX_SCALE = 24
#: Widest signed value a calibrated config may ask for (`QuantConfig` allows 2..126).
MAX_WIDTH = 126

_NP_TYPES: dict[int, type[np.floating[Any]]] = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
}


#: Intermediate tensors whose magnitudes calibration reads (integer and boolean tensors
#: feed comparisons, indices and integer outputs).
_EXPOSED = (
    *_NP_TYPES,
    onnx.TensorProto.INT64,
    onnx.TensorProto.INT32,
    onnx.TensorProto.INT16,
    onnx.TensorProto.INT8,
    onnx.TensorProto.UINT8,
    onnx.TensorProto.BOOL,
)


def _session(data: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])


def run_reference(
    graph: OnnxGraph, samples: Sequence[Sample], *, all_tensors: bool = False
) -> list[dict[str, npt.NDArray[Any]]]:
    """onnxruntime's outputs for each sample (with every intermediate tensor if asked)."""
    data = _exposed(graph) if all_tensors else graph.data
    try:
        sess = _session(data)
    except Exception as e:
        # onnxruntime lacks some kernels (e.g. Max of int16): the ONNX reference runs all
        sess = _ReferenceSession(data, graph.path, e)
    names = [o.name for o in sess.get_outputs()]
    out = []
    for s in samples:
        feeds = {
            i.name: np.asarray(
                s[i.name], dtype=helper.tensor_dtype_to_np_dtype(i.elem_type)
            ).reshape(i.shape)
            for i in graph.inputs
        }
        out.append({n: _dense(v) for n, v in zip(names, sess.run(None, feeds), strict=True)})
    return out


def _dense(v: Any) -> npt.NDArray[Any]:
    """An output as an array; ZipMap's list of {label: probability} maps becomes the rows
    of probabilities in label order (the circuit states the probabilities themselves)."""
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return np.array([list(row.values()) for row in v], dtype=np.float64)
    return np.asarray(v)


class _ReferenceSession:
    """The ONNX reference evaluator behind onnxruntime's `run` / `get_outputs` calls."""

    def __init__(self, data: bytes, path: str, cause: Exception) -> None:
        from onnx.reference import ReferenceEvaluator

        try:
            self.model = onnx.load_model_from_string(data)
            self.ev = ReferenceEvaluator(self.model)
        except Exception as e:
            raise ModelError(
                f"{path}: neither onnxruntime ({cause}) nor the ONNX reference can run the model"
            ) from e

    def get_outputs(self) -> list[Any]:
        return list(self.model.graph.output)

    def run(self, names: None, feeds: dict[str, Any]) -> list[Any]:
        return list(self.ev.run(names, feeds))


def _exposed(graph: OnnxGraph) -> bytes:
    model = onnx.load_model_from_string(graph.data)
    model = onnx.shape_inference.infer_shapes(model)
    known = {o.name for o in model.graph.output}
    typed = {v.name: v for v in model.graph.value_info}
    for node in model.graph.node:
        for o in node.output:
            if (
                o
                and o not in known
                and o in typed
                and typed[o].type.tensor_type.elem_type in _EXPOSED
            ):
                model.graph.output.append(typed[o])
                known.add(o)
    return bytes(model.SerializeToString())


def calibrate(
    graph: OnnxGraph, samples: Sequence[Sample], base: QuantConfig | None = None
) -> QuantConfig:
    """A config fitted to the samples (see the module docstring).

    Samples that no fixed-point circuit can represent raise `CalibrationError` naming the
    input or the tensor (and its node), the largest magnitude found and the limit: a NaN
    or infinite value, or a magnitude beyond `max_magnitude`. When the activations are too
    large for ``act_bits`` at the coarsest scale, ``act_bits`` is widened to fit them."""
    cfg = base or QuantConfig()
    if not samples:
        raise ModelError(f"{graph.path}: calibration needs at least one sample")
    m_in = _input_peak(graph, samples)
    _check_resolution(graph, samples)
    runs = run_reference(graph, samples, all_tensors=True)
    peak = _tensor_peaks(graph, runs)
    m_act = max([m_in, *peak.values()])
    scale = cfg.act_bits - 1 - _log2_ceil(m_act * MARGIN)
    scale = max(MIN_SCALE, min(MAX_SCALE, scale))
    act_bits = max(cfg.act_bits, bits_for_bound(math.ceil(m_act * MARGIN * 2**scale)))
    if act_bits > MAX_WIDTH:  # only reached by a tensor: inputs were checked above
        name = max(peak, key=lambda t: peak[t])
        raise CalibrationError(
            f"{graph.path}: tensor {name!r} ({_producer(graph, name)}) reaches "
            f"{peak[name]:.4g} on the calibration samples, beyond the largest magnitude a "
            f"circuit can carry ({max_magnitude():.4g}); rescale the model or its inputs"
        )
    inputs = {i.name for i in graph.inputs}
    tensor_bits = {}
    for node in graph.nodes:
        mags = [peak.get(t, m_in if t in inputs else 0.0) for t in (*node.input, *node.output) if t]
        if node.output and node.output[0] and mags:
            need = bits_for_bound(math.ceil(max(mags) * MARGIN * 2**scale))
            tensor_bits[node.output[0]] = min(act_bits, max(need, 2))
    m_out = max((peak.get(o.name, 0.0) for o in graph.outputs), default=0.0)
    return cfg.replace(
        input_scale=scale,
        act_scale=scale,
        act_bits=act_bits,
        input_bits=max(2, bits_for_bound(math.ceil(m_in * MARGIN * 2**scale))),
        output_bits=max(2, bits_for_bound(math.ceil(m_out * MARGIN * 2**scale))),
        tensor_bits=tensor_bits,
    )


def max_magnitude() -> float:
    """The largest real magnitude a calibrated tensor may reach: MAX_WIDTH signed bits at
    the coarsest scale, with the calibration margin."""
    return math.ldexp(1.0, MAX_WIDTH - 1 - MIN_SCALE) / MARGIN


def _input_peak(graph: OnnxGraph, samples: Sequence[Sample]) -> float:
    """The largest input magnitude; NaN, infinity or too large a value is refused by name."""
    m_in = 0.0
    for k, s in enumerate(samples):
        for i in graph.inputs:
            a = np.asarray(s[i.name], dtype=np.float64)
            if not np.all(np.isfinite(a)):
                raise CalibrationError(
                    f"{graph.path}: calibration sample #{k}, input {i.name!r}: NaN or infinity"
                )
            top = float(np.max(np.abs(a), initial=0.0))
            if top > max_magnitude():
                raise CalibrationError(
                    f"{graph.path}: calibration sample #{k}, input {i.name!r} reaches {top:.4g}, "
                    f"beyond the largest magnitude a circuit input can carry "
                    f"({max_magnitude():.4g}: {MAX_WIDTH} signed bits at scale 2^-{MIN_SCALE}); "
                    "rescale the inputs (e.g. normalise them) before the model"
                )
            m_in = max(m_in, top)
    return m_in


#: Fewest significant bits the largest value of a float input must keep at `MAX_SCALE`.
MIN_SIGNIFICANT_BITS = 8


def _check_resolution(graph: OnnxGraph, samples: Sequence[Sample]) -> None:
    """Refuse a float input whose samples are all so small (but not all zero) that even the
    finest scale keeps fewer than `MIN_SIGNIFICANT_BITS` bits of them: its comparisons and
    divisions would be decided by rounding."""
    floor = math.ldexp(1.0, MIN_SIGNIFICANT_BITS - MAX_SCALE)
    for i in graph.inputs:
        if i.is_integer:
            continue
        top = max(float(np.max(np.abs(s[i.name]), initial=0.0)) for s in samples)
        if 0.0 < top < floor:
            raise CalibrationError(
                f"{graph.path}: input {i.name!r} peaks at {top:.3g} on the calibration samples, "
                f"below {floor:.3g}: at the finest scale (2^-{MAX_SCALE}) it would keep fewer "
                f"than {MIN_SIGNIFICANT_BITS} significant bits; multiply it by a constant "
                "(rescale the feature) before the model"
            )


def _tensor_peaks(graph: OnnxGraph, runs: list[dict[str, npt.NDArray[Any]]]) -> dict[str, float]:
    """The largest magnitude of each float tensor over the runs; a NaN or infinity (a float
    overflow of the reference run) is refused naming the tensor and its node."""
    peak: dict[str, float] = {}
    for k, r in enumerate(runs):
        for name, v in r.items():
            a = np.asarray(v)
            if not a.size or a.dtype.kind not in "fiub":
                continue
            a = a.astype(np.float64)
            if not np.all(np.isfinite(a)):
                raise CalibrationError(
                    f"{graph.path}: tensor {name!r} ({_producer(graph, name)}) is NaN or "
                    f"infinite on calibration sample #{k} (a float overflow in the model "
                    "itself); calibrate on inputs the model computes finite values for"
                )
            peak[name] = max(peak.get(name, 0.0), float(np.max(np.abs(a))))
    return peak


def _producer(graph: OnnxGraph, tensor: str) -> str:
    for i, node in enumerate(graph.nodes):
        if tensor in node.output:
            return f"output of node {node.name or f'{node.op_type}_{i}'!r}, {node.op_type}"
    return "a model input"


def _log2_ceil(x: float) -> int:
    return math.ceil(math.log2(x)) if x > 1e-30 else 0


def random_samples(graph: OnnxGraph, n: int, seed: int = 0, magnitude: float = 1.0) -> list[Sample]:
    """n samples uniform in [-magnitude, magnitude] (rounded for integer inputs; booleans
    0 or 1)."""
    rng = np.random.default_rng(seed)

    def draw(i: TensorInfo) -> npt.NDArray[np.float64]:
        x = rng.uniform(-magnitude, magnitude, i.shape)
        if i.elem_type == onnx.TensorProto.BOOL:
            return (x > 0).astype(np.float64)
        return np.round(x) if i.is_integer else x

    return [{i.name: draw(i) for i in graph.inputs} for _ in range(n)]
