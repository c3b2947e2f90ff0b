"""What a compiled model's statement reveals: weights, inputs and outputs, public or private.

Chosen at compile time (``zkoracle compile --weights/--inputs/--outputs public|private``,
``--claim``) and saved in the manifest, since it changes the circuit:

* private weights: the weight and bias tensors of Gemm, MatMul and Conv, and the constant
  operand of an Add or Sub that follows a computed tensor (a bias), become witness values,
  range-checked and committed; the statement ends with their salted commitment. Other
  constants (Mul/Div factors, thresholds of comparisons, shapes, activation parameters)
  stay in the circuit as public constants.
* private inputs: the statement carries a salted commitment to the quantized inputs.
* private outputs: the statement carries a salted commitment to the quantized outputs.
* a claim: the statement carries the claim's threshold and its boolean result instead of
  the outputs.

Claim grammar (whitespace free)::

    claim   := OUTPUT [ "[" INDEX "]" ] OP NUMBER
    OUTPUT  := a graph output name
    INDEX   := flat (C-order) element index, default 0 for a one-element output
    OP      := "<" | "<=" | ">" | ">="
    NUMBER  := a decimal number (the threshold, quantized at the output's scale)

for example ``probabilities[1] < 0.2``. The result is 1 when the claim holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from circuits.errors import BuildError

Mode = Literal["public", "private"]
Op = Literal["<", "<=", ">", ">="]
_CLAIM = re.compile(
    r"^\s*(?P<out>[^\s\[\]<>=]+)\s*(\[\s*(?P<idx>\d+)\s*\])?\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<num>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$"
)


class ClaimSyntaxError(BuildError):
    """A --claim that does not follow the documented grammar."""


@dataclass(frozen=True)
class Claim:
    """``output[index] op threshold`` (module docstring)."""

    output: str
    index: int
    op: Op
    threshold: float

    @staticmethod
    def parse(text: str) -> Claim:
        m = _CLAIM.match(text)
        if m is None:
            raise ClaimSyntaxError(
                f"claim {text!r} does not read OUTPUT[INDEX] OP NUMBER with OP one of "
                "<, <=, >, >= (for example: probabilities[1] < 0.2)"
            )
        op: Op = m["op"]  # type: ignore[assignment]
        return Claim(m["out"], int(m["idx"] or 0), op, float(m["num"]))

    def __str__(self) -> str:
        return f"{self.output}[{self.index}] {self.op} {self.threshold!r}"


@dataclass(frozen=True)
class Visibility:
    """Which parts of the statement are hidden behind commitments (module docstring)."""

    weights: Mode = "public"
    inputs: Mode = "public"
    outputs: Mode = "public"
    claim: Claim | None = None

    def __post_init__(self) -> None:
        for part in ("weights", "inputs", "outputs"):
            if getattr(self, part) not in ("public", "private"):
                raise BuildError(f"{part} visibility {getattr(self, part)!r}: public or private")
        if self.claim is not None and self.outputs == "public":
            object.__setattr__(self, "outputs", "private")  # a claim hides the outputs

    @property
    def is_public(self) -> bool:
        return self == Visibility()

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "claim": None if self.claim is None else str(self.claim),
        }

    @staticmethod
    def from_json(d: dict[str, Any] | None) -> Visibility:
        if not d:
            return Visibility()
        claim = d.get("claim")
        return Visibility(
            d.get("weights", "public"),
            d.get("inputs", "public"),
            d.get("outputs", "public"),
            Claim.parse(claim) if claim else None,
        )
