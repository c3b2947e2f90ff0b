"""A compiled model: circuit, statement layout and the maps between floats and witnesses.

This is what the prove path needs and what the model directory stores (pickled): it
imports numpy but not onnx nor the compiler (`circuits.onnx.compiler` makes these).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from circuits.errors import InputRangeError, QuantOverflowError, UnsatisfiedConstraintError
from circuits.field import HALF, R
from circuits.onnx.graph import BOOL, OnnxGraph
from circuits.onnx.quant import QuantConfig, dequantize, quantize
from circuits.onnx.schema import IOSpecJson
from circuits.onnx.statement import PublicLayout
from circuits.onnx.tensor import Value
from circuits.onnx.visibility import Visibility
from circuits.program import Circuit, Witness

if TYPE_CHECKING:
    from circuits.commitment import Segment
    from circuits.onnx.context import PrivateTensor


@dataclass(frozen=True)
class IOSpec:
    """A model input or output as the statement sees it."""

    name: str
    shape: tuple[int, ...]
    scale: int
    bits: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def to_json(self) -> IOSpecJson:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "scale": self.scale,
            "bits": self.bits,
        }


@dataclass(frozen=True)
class NodeCost:
    """Constraints one node emitted."""

    index: int
    name: str
    op_type: str
    label: str
    constraints: int


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A circuit with its statement layout and the maps between floats and witnesses."""

    graph: OnnxGraph
    config: QuantConfig
    circuit: Circuit
    inputs: tuple[IOSpec, ...]
    outputs: tuple[IOSpec, ...]
    layout: PublicLayout
    nodes: tuple[NodeCost, ...]
    #: Certified error bounds of the nonlinear approximations, one JSON-ready dict each
    #: (node, function, max_abs_error...), for the manifest's error report.
    approximations: tuple[dict[str, Any], ...] = ()
    visibility: Visibility = field(default_factory=Visibility)
    #: The weight tensors held in witness wires (private weights), in commitment order.
    private_weights: tuple[PrivateTensor, ...] = ()
    #: The output values as circuit values (builder numbering), statement order.
    output_lcs: tuple[Value, ...] = ()

    @property
    def salt_names(self) -> tuple[str, ...]:
        """The commitments this statement holds, each needing a salt: of "inputs",
        "outputs", "weights"."""
        v = self.visibility
        names = [p for p in ("inputs", "outputs") if getattr(v, p) == "private"]
        if v.claim is not None:
            names.remove("outputs")
        return (*names, *(["weights"] if v.weights == "private" else []))

    def weight_segments(self, weights: Mapping[str, Sequence[int]] | None = None) -> list[Segment]:
        """The committed weight tensors (the model's own values, or `weights` by name)."""
        from circuits.commitment import Segment

        out = []
        for t in self.private_weights:
            values = t.values if weights is None else tuple(int(v) for v in weights[t.name])
            out.append(Segment(t.name, t.bits, values))
        return out

    def quantize_inputs(self, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, list[int]]:
        """Quantized inputs by name; refuses a missing, extra, mis-shaped or out-of-range one."""
        names = [s.name for s in self.inputs]
        extra = sorted(set(inputs) - set(names))
        if extra:
            raise InputRangeError(f"unknown input(s) {extra}; the model takes {names}")
        out: dict[str, list[int]] = {}
        for spec in self.inputs:
            if spec.name not in inputs:
                raise InputRangeError(
                    f"no value for input {spec.name!r} (shape {list(spec.shape)})"
                )
            arr = np.asarray(inputs[spec.name], dtype=np.float64)
            if [d for d in arr.shape if d != 1] != [d for d in spec.shape if d != 1]:
                raise InputRangeError(
                    f"input {spec.name!r} has shape {list(arr.shape)}, expected {list(spec.shape)}"
                )
            bad = np.flatnonzero(~np.isfinite(arr.reshape(-1)))
            if bad.size:
                i = int(bad[0])
                raise InputRangeError(
                    f"input {spec.name!r}[{i}] is {float(arr.reshape(-1)[i])!r} "
                    f"({bad.size} such values): a circuit holds finite fixed-point numbers "
                    "only; impute missing features before proving"
                )
            self._check_integral(spec, arr)
            q = [int(v) for v in quantize(arr.reshape(-1), spec.scale)]
            half = 1 << (spec.bits - 1)
            for i, v in enumerate(q):
                if not -half <= v < half:
                    lim = half / 2**spec.scale
                    raise InputRangeError(
                        f"input {spec.name!r}[{i}] = {float(arr.reshape(-1)[i])!r} is outside the "
                        "compiled range "
                        f"[-{lim:g}, {lim:g}) ({spec.bits} signed bits at scale 2^-{spec.scale}); "
                        "recompile with --calibration on representative inputs"
                    )
            out[spec.name] = q
        return out

    def _check_integral(self, spec: IOSpec, arr: npt.NDArray[np.float64]) -> None:
        info = next(i for i in self.graph.inputs if i.name == spec.name)
        if not info.is_integer:
            return
        flat = arr.reshape(-1)
        if info.elem_type == BOOL:
            frac = np.flatnonzero((flat != 0) & (flat != 1))
            if frac.size:
                i = int(frac[0])
                raise InputRangeError(
                    f"input {spec.name!r}[{i}] = {float(flat[i])!r} is not a boolean (0 or 1)"
                )
        frac = np.flatnonzero(flat != np.round(flat))
        if frac.size:
            i = int(frac[0])
            raise InputRangeError(
                f"input {spec.name!r}[{i}] = {float(arr.reshape(-1)[i])!r} is not an integer, "
                f"but the input has element type {_type_name(info.elem_type)}"
            )

    def witness(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        binding: int = 0,
        *,
        check: bool = True,
        salts: Mapping[str, int] | None = None,
        weights: Mapping[str, Sequence[int]] | None = None,
    ) -> Witness:
        """The full witness for float inputs. A value that overflows a compiled width raises
        `QuantOverflowError` naming the node. `salts` gives the salt of each commitment
        (`salt_names`); `weights` replaces the model's own private weights (by tensor
        name), which only a test of soundness wants."""
        assignment: dict[str, int | list[int]] = {"binding": binding}
        for name, q in self.quantize_inputs(inputs).items():
            assignment[f"x:{name}"] = q
        for part in self.salt_names:
            if salts is None or part not in salts:
                raise InputRangeError(
                    f"the statement holds a commitment to the {part}: a salt for it is "
                    "required (zkoracle prove creates one; keep it to open the commitment)"
                )
            assignment[f"salt:{part}"] = salts[part]
        for t in self.private_weights:
            values = t.values if weights is None else tuple(int(v) for v in weights[t.name])
            assignment[f"w:{t.name}"] = list(values)
        try:
            return self.circuit.solve(assignment, check=check)
        except UnsatisfiedConstraintError as e:
            raise self.overflow_error(e) from e

    def output_values(self, w: Witness) -> list[int]:
        """The quantized outputs (statement order) read from a witness."""
        out = []
        for v in self.output_lcs:
            x = v if isinstance(v, int) else self.circuit.translate(v).evaluate(w.values)
            out.append(x - R if x > HALF else x)
        return out

    def overflow_error(self, e: UnsatisfiedConstraintError) -> QuantOverflowError:
        """Name the node whose range check failed for an honest witness."""
        label = e.gadget.split("/")[0]
        node = next((n for n in self.nodes if n.label == label), None)
        where = f"{node.name} ({node.op_type})" if node else label
        what = (
            "a division by zero, or a quotient beyond the range the circuit was compiled for"
            if "div" in e.gadget
            else "a value exceeds the range the circuit was compiled for"
        )
        return QuantOverflowError(
            where,
            f"{what} (constraint #{e.index}, gadget {e.gadget!r}); recompile with "
            "--calibration on representative inputs",
        )

    def outputs_from_public(self, public: list[int]) -> dict[str, npt.NDArray[np.float64]]:
        """Dequantized outputs by name from a public-input vector (public outputs)."""
        _, _, values = self.layout.split(public)
        return self.dequantize_outputs(values)

    def dequantize_outputs(self, values: Sequence[int]) -> dict[str, npt.NDArray[np.float64]]:
        """Dequantized outputs by name from the quantized outputs in statement order."""
        out: dict[str, npt.NDArray[np.float64]] = {}
        at = 0
        for spec in self.outputs:
            chunk = values[at : at + spec.size]
            at += spec.size
            out[spec.name] = dequantize(np.array(chunk, dtype=object), spec.scale).reshape(
                spec.shape
            )
        return out


def _type_name(elem_type: int) -> str:
    import onnx  # only for this error message

    return str(onnx.TensorProto.DataType.Name(elem_type))
