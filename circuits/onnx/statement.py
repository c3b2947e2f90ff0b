"""The public statement of a compiled model and the packing of values into field elements.

Public inputs, in order: ``binding``, the model inputs, the model outputs (all inputs
flattened in C order and concatenated in graph order; outputs likewise), and with private
weights their commitment. Private inputs (outputs) are one word instead, their salted
Poseidon commitment (`circuits.commitment`); a claim's outputs part is (threshold,
result). A list of signed values of width ``bits`` is encoded with ``per_word`` values
per field element:

* ``per_word == 1``: one element per value, ``v mod r``;
* ``per_word >= 2`` (``per_word * bits <= 253``): element k holds values
  ``k*per_word .. k*per_word + per_word - 1`` as ``sum_j (v_j + 2^(bits-1)) << (bits*j)``.

This is the encoding of ``contracts/Statement.sol`` and ``oracle/statement.py``, value for
value (a test compares them). In the circuit each value is range-checked to ``bits`` first,
so the offset values lie in [0, 2^bits) and a word is below 2^253 < r: the packing is a
free, injective linear combination (one constraint per word ties it to the public wire).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from circuits.builder import Builder
from circuits.errors import FieldRangeError
from circuits.field import HALF, R
from circuits.lc import LinearCombination
from circuits.onnx.schema import PackingJson
from circuits.onnx.tensor import Value, linear

#: Largest per_word * bits: a packed word stays below 2^253 < r.
MAX_PACKED_BITS = 253


@dataclass(frozen=True)
class Packing:
    """How one list of signed values becomes field elements (module docstring)."""

    bits: int
    per_word: int = 1

    def __post_init__(self) -> None:
        if self.bits < 1 or self.per_word < 1 or self.bits * self.per_word > MAX_PACKED_BITS:
            raise FieldRangeError(
                f"packing bits={self.bits}, per_word={self.per_word}: "
                "need bits >= 1, per_word >= 1 "
                f"and bits * per_word <= {MAX_PACKED_BITS}"
            )

    @staticmethod
    def for_bits(bits: int, pack: bool) -> Packing:
        return Packing(bits, MAX_PACKED_BITS // bits if pack else 1)

    def word_count(self, n: int) -> int:
        return -(-n // self.per_word)

    def check(self, values: Sequence[int], what: str) -> None:
        half = 1 << (self.bits - 1)
        for i, v in enumerate(values):
            if not -half <= v < half:
                raise FieldRangeError(f"{what} #{i} = {v} does not fit {self.bits} signed bits")

    def encode(self, values: Sequence[int], what: str = "value") -> list[int]:
        """The field elements of `values` (each must fit `bits` signed bits)."""
        self.check(values, what)
        if self.per_word == 1:
            return [v % R for v in values]
        half = 1 << (self.bits - 1)
        words = [0] * self.word_count(len(values))
        for i, v in enumerate(values):
            words[i // self.per_word] |= (v + half) << (self.bits * (i % self.per_word))
        return words

    def decode(self, words: Sequence[int], n: int) -> list[int]:
        """The n signed values held by `words` (inverse of `encode`); a word holding a value
        outside the signed range (no valid statement has one) raises."""
        if len(words) != self.word_count(n):
            raise FieldRangeError(f"{n} values take {self.word_count(n)} words, got {len(words)}")
        if self.per_word == 1:
            values = [w - R if w > HALF else w for w in words]
        else:
            half, mask = 1 << (self.bits - 1), (1 << self.bits) - 1
            values = [
                ((words[i // self.per_word] >> (self.bits * (i % self.per_word))) & mask) - half
                for i in range(n)
            ]
        self.check(values, "decoded value")
        return values

    def pack_lcs(self, values: Sequence[Value]) -> list[Value]:
        """The words as linear combinations of already range-checked values (free)."""
        half = 1 << (self.bits - 1)
        if self.per_word == 1:
            return list(values)
        words: list[Value] = []
        for k in range(0, len(values), self.per_word):
            chunk = values[k : k + self.per_word]
            offset = sum(half << (self.bits * j) for j in range(len(chunk)))
            words.append(linear(((1 << (self.bits * j), v) for j, v in enumerate(chunk)), offset))
        return words

    def to_json(self) -> PackingJson:
        return {"bits": self.bits, "per_word": self.per_word}


OutputKind = Literal["values", "commitment", "claim"]


@dataclass(frozen=True)
class StatementParts:
    """A public-input vector read back: each part is None when the statement lacks it."""

    binding: int
    inputs: list[int] | None
    input_commitment: int | None
    outputs: list[int] | None
    output_commitment: int | None
    claim: tuple[int, int] | None  # (threshold, result), result 1 when the claim holds
    weights_commitment: int | None


@dataclass(frozen=True)
class PublicLayout:
    """Counts and packings of the statement [binding, inputs, outputs, weights commitment]:
    the inputs as packed words or one commitment; the outputs as packed words, one
    commitment or a claim's (threshold, result); the weights commitment when the weights
    are private (see `circuits.onnx.visibility`)."""

    n_inputs: int
    n_outputs: int
    inputs: Packing
    outputs: Packing
    inputs_committed: bool = False
    outputs_kind: OutputKind = "values"
    weights_committed: bool = False

    @property
    def input_words(self) -> int:
        return 1 if self.inputs_committed else self.inputs.word_count(self.n_inputs)

    @property
    def output_words(self) -> int:
        if self.outputs_kind == "values":
            return self.outputs.word_count(self.n_outputs)
        return 1 if self.outputs_kind == "commitment" else 2

    @property
    def is_public(self) -> bool:
        """True when inputs and outputs are in the clear (weights may still be private)."""
        return not self.inputs_committed and self.outputs_kind == "values"

    @property
    def n_public(self) -> int:
        return 1 + self.input_words + self.output_words + int(self.weights_committed)

    def public_inputs(
        self, binding: int, inputs: Sequence[int], outputs: Sequence[int]
    ) -> list[int]:
        """The statement of a model whose inputs and outputs are public."""
        if not self.is_public or self.weights_committed:
            raise FieldRangeError("this statement holds commitments: use `statement`")
        return self.statement(binding, inputs=inputs, outputs=outputs)

    def statement(
        self,
        binding: int,
        *,
        inputs: Sequence[int] | int,
        outputs: Sequence[int] | int | tuple[int, int],
        weights_commitment: int | None = None,
    ) -> list[int]:
        """The public inputs: `inputs` values (or their commitment when committed),
        `outputs` values (or their commitment, or (threshold, result) for a claim)."""
        for what, v in (("binding", binding), ("commitment", weights_commitment or 0)):
            if not 0 <= v < R:
                raise FieldRangeError(f"{what} {v} is not a field element in [0, r)")
        out = [binding]
        out += (
            [_element(inputs, "input commitment")]
            if self.inputs_committed
            else (self.inputs.encode(_values(inputs, "inputs"), "input"))
        )
        if self.outputs_kind == "values":
            out += self.outputs.encode(_values(outputs, "outputs"), "output")
        elif self.outputs_kind == "commitment":
            out.append(_element(outputs, "output commitment"))
        else:
            if not isinstance(outputs, tuple) or len(outputs) != 2:
                raise FieldRangeError("a claim's statement takes (threshold, result)")
            out += [outputs[0] % R, outputs[1]]
        if self.weights_committed:
            if weights_commitment is None:
                raise FieldRangeError("the model's weights are private: give weights_commitment")
            out.append(weights_commitment)
        return out

    def parts(self, public: Sequence[int]) -> StatementParts:
        """Every part of a public-input vector (None for the parts this layout lacks)."""
        if len(public) != self.n_public:
            raise FieldRangeError(f"expected {self.n_public} public inputs, got {len(public)}")
        a, b = 1, 1 + self.input_words
        c = b + self.output_words
        ins, outs = list(public[a:b]), list(public[b:c])
        values = self.outputs_kind == "values"
        return StatementParts(
            public[0],
            None if self.inputs_committed else self.inputs.decode(ins, self.n_inputs),
            ins[0] if self.inputs_committed else None,
            self.outputs.decode(outs, self.n_outputs) if values else None,
            outs[0] if self.outputs_kind == "commitment" else None,
            (_signed(outs[0]), outs[1]) if self.outputs_kind == "claim" else None,
            public[c] if self.weights_committed else None,
        )

    def chain_outputs(self, public: Sequence[int]) -> list[int]:
        """The outputs as the hub's ``fulfill`` takes them: the quantized values, or
        [commitment] for committed outputs, or [threshold, result] for a claim."""
        p = self.parts(public)
        if p.outputs is not None:
            return p.outputs
        if p.output_commitment is not None:
            return [p.output_commitment]
        assert p.claim is not None
        return list(p.claim)

    def split(self, public: Sequence[int]) -> tuple[int, list[int], list[int]]:
        """(binding, input values, output values) of a statement with public inputs and
        outputs (a weights commitment, if any, is left out)."""
        p = self.parts(public)
        if p.inputs is None or p.outputs is None:
            raise FieldRangeError(
                "the statement holds commitments instead of values: read it with `parts`"
            )
        return p.binding, p.inputs, p.outputs

    def to_json(self) -> dict[str, Any]:
        ins: dict[str, Any] = {
            "name": "inputs",
            "words": self.input_words,
            "values": self.n_inputs,
            **self.inputs.to_json(),
        }
        if self.inputs_committed:
            ins["commitment"] = True
        outs: dict[str, Any] = {
            "name": "outputs",
            "words": self.output_words,
            "values": self.n_outputs,
            **self.outputs.to_json(),
        }
        if self.outputs_kind != "values":
            outs["kind"] = self.outputs_kind
        order: list[dict[str, Any]] = [{"name": "binding", "words": 1}, ins, outs]
        if self.weights_committed:
            order.append({"name": "weights_commitment", "words": 1})
        return {"n_public": self.n_public, "order": order}

    @staticmethod
    def from_json(d: dict[str, Any]) -> PublicLayout:
        ins, outs = d["order"][1], d["order"][2]
        kind: OutputKind = outs.get("kind", "values")
        if kind not in ("values", "commitment", "claim"):
            raise FieldRangeError(f"unknown output kind {kind!r}")
        return PublicLayout(
            int(ins["values"]),
            int(outs["values"]),
            Packing(int(ins["bits"]), int(ins["per_word"])),
            Packing(int(outs["bits"]), int(outs["per_word"])),
            bool(ins.get("commitment", False)),
            kind,
            any(p.get("name") == "weights_commitment" for p in d["order"]),
        )


def _values(x: Sequence[int] | int, what: str) -> Sequence[int]:
    if isinstance(x, int):
        raise FieldRangeError(f"this statement holds the {what} values, not a commitment")
    return x


def _element(x: Sequence[int] | int, what: str) -> int:
    if not isinstance(x, int) or not 0 <= x < R:
        raise FieldRangeError(f"the {what} must be a field element in [0, r)")
    return x


def _signed(w: int) -> int:
    return w - R if w > HALF else w


def bind_words(builder: Builder, name: str, words: Sequence[Value]) -> None:
    """Declare the public inputs name[0..] and make each carry its word (1 constraint each)."""
    pubs = builder.public_inputs(name, len(words))
    for pub, w in zip(pubs, words, strict=True):
        builder.assign_public(
            pub, w if isinstance(w, LinearCombination) else LinearCombination.constant(w)
        )
