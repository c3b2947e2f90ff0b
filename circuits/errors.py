"""Exceptions of the proving side: one root, specific subclasses that say what went wrong."""

from __future__ import annotations

from typing import Any


class CircuitError(Exception):
    """Root of every error raised by the `circuits` package."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take their own arguments (a path, a node, a constraint index) and keep
        # the formatted message: rebuild from the message and the attributes, so an error
        # raised in a prover worker process reaches the daemon intact.
        return (_restore, (type(self), str(self), dict(self.__dict__)))


def _restore(cls: type[CircuitError], message: str, state: dict[str, Any]) -> CircuitError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class FieldRangeError(CircuitError):
    """A value does not fit the range it must be encoded in (it would wrap modulo r)."""


class BuildError(CircuitError):
    """The circuit description is invalid: a violated gadget precondition, a bad input name."""


class UnconstrainedHintError(BuildError):
    """A hint produced a wire that no constraint of the same gadget pins down."""

    def __init__(self, gadget: str, wires: list[int]) -> None:
        shown = ", ".join(str(w) for w in wires[:8])
        more = "" if len(wires) <= 8 else f" (+{len(wires) - 8} more)"
        super().__init__(
            f"gadget {gadget!r}: hint output wire(s) {shown}{more} appear in no constraint "
            "of the gadget; every hint output must be pinned by constraints"
        )
        self.gadget = gadget
        self.wires = wires


class WitnessError(CircuitError):
    """A witness could not be computed (a missing input, a hint that failed)."""


class UnsatisfiedConstraintError(WitnessError):
    """A witness violates a constraint. Carries the constraint index and its gadget."""

    def __init__(self, index: int, gadget: str, a: int, b: int, c: int) -> None:
        super().__init__(
            f"constraint #{index} (gadget {gadget!r}) is not satisfied: "
            f"<A,w>*<B,w> = {a}*{b} != {c} = <C,w> (mod r)"
        )
        self.index = index
        self.gadget = gadget


class FormatError(CircuitError):
    """A file does not follow the binary or JSON layout it claims to have."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path


class InvalidPointError(FormatError):
    """A key file holds a curve point that is off the curve or outside the subgroup."""


class CorruptKeyError(FormatError):
    """A proving-key file does not match the hash stored beside it, or cannot be decoded."""


class BackendError(CircuitError):
    """A Groth16 backend failed (setup, prove, key import, external tool)."""


class KeyMismatchError(BackendError):
    """A key and a circuit that do not belong together (a key made for another circuit)."""


class VerificationInputError(CircuitError):
    """Verification was called with a malformed key or the wrong number of public inputs."""


class SolidityRenderError(CircuitError):
    """The Solidity verifier cannot be rendered: a malformed key, header or contract name."""


class ModelError(CircuitError):
    """An ONNX model cannot be compiled: unreadable file, dynamic shape, bad graph."""


class CalibrationError(ModelError):
    """Calibration samples no fixed-point circuit can carry (NaN, infinity, a magnitude
    beyond the widest width); the message names the input or tensor and the limit."""


class UnsupportedOpError(ModelError):
    """The model uses an operator (or an attribute value) the compiler does not lower."""

    def __init__(self, op_type: str, node: str, opset: int, detail: str = "") -> None:
        extra = f": {detail}" if detail else ""
        super().__init__(f"unsupported operator {op_type!r} (node {node!r}, opset {opset}){extra}")
        self.op_type = op_type
        self.node = node
        self.opset = opset


class LoweringError(ModelError):
    """A supported operator got inputs or attributes it cannot lower; names the node."""

    def __init__(self, op_type: str, node: str, opset: int, what: str) -> None:
        super().__init__(f"node {node!r} ({op_type}, opset {opset}): {what}")
        self.op_type = op_type
        self.node = node
        self.opset = opset


class QuantOverflowError(CircuitError):
    """A quantized value (static bound or actual value) exceeds the width it must fit."""

    def __init__(self, node: str, what: str) -> None:
        super().__init__(f"node {node!r}: {what}")
        self.node = node


class InputRangeError(CircuitError):
    """A model input is missing, mis-shaped, or outside the range the circuit was compiled for."""
