"""The public statement of a compiled model and the packing of values into field elements.

Public inputs, in order: ``binding``, the model inputs, the model outputs (all inputs
flattened in C order and concatenated in graph order; outputs likewise). A list of signed
values of width ``bits`` is encoded with ``per_word`` values per field element:

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
from typing import Any

from circuits.builder import Builder
from circuits.errors import FieldRangeError
from circuits.field import HALF, R
from circuits.lc import LinearCombination
from circuits.onnx.schema import PackingJson, PublicLayoutJson, ValuesPartJson
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


@dataclass(frozen=True)
class PublicLayout:
    """Counts and packings of the statement [binding, inputs..., outputs...]."""

    n_inputs: int
    n_outputs: int
    inputs: Packing
    outputs: Packing

    @property
    def input_words(self) -> int:
        return self.inputs.word_count(self.n_inputs)

    @property
    def output_words(self) -> int:
        return self.outputs.word_count(self.n_outputs)

    @property
    def n_public(self) -> int:
        return 1 + self.input_words + self.output_words

    def public_inputs(
        self, binding: int, inputs: Sequence[int], outputs: Sequence[int]
    ) -> list[int]:
        if not 0 <= binding < R:
            raise FieldRangeError(f"binding {binding} is not a field element in [0, r)")
        return [
            binding,
            *self.inputs.encode(inputs, "input"),
            *self.outputs.encode(outputs, "output"),
        ]

    def split(self, public: Sequence[int]) -> tuple[int, list[int], list[int]]:
        """(binding, input values, output values) from a public-input vector."""
        if len(public) != self.n_public:
            raise FieldRangeError(f"expected {self.n_public} public inputs, got {len(public)}")
        a, b = 1, 1 + self.input_words
        return (
            public[0],
            self.inputs.decode(public[a:b], self.n_inputs),
            self.outputs.decode(public[b:], self.n_outputs),
        )

    def to_json(self) -> PublicLayoutJson:
        ins, outs = self.inputs, self.outputs
        return {
            "n_public": self.n_public,
            "order": [
                {"name": "binding", "words": 1},
                ValuesPartJson(
                    name="inputs",
                    words=self.input_words,
                    values=self.n_inputs,
                    bits=ins.bits,
                    per_word=ins.per_word,
                ),
                ValuesPartJson(
                    name="outputs",
                    words=self.output_words,
                    values=self.n_outputs,
                    bits=outs.bits,
                    per_word=outs.per_word,
                ),
            ],
        }

    @staticmethod
    def from_json(d: Any) -> PublicLayout:
        _, ins, outs = d["order"]
        return PublicLayout(
            int(ins["values"]),
            int(outs["values"]),
            Packing(int(ins["bits"]), int(ins["per_word"])),
            Packing(int(outs["bits"]), int(outs["per_word"])),
        )


def bind_words(builder: Builder, name: str, words: Sequence[Value]) -> None:
    """Declare the public inputs name[0..] and make each carry its word (1 constraint each)."""
    pubs = builder.public_inputs(name, len(words))
    for pub, w in zip(pubs, words, strict=True):
        builder.assign_public(
            pub, w if isinstance(w, LinearCombination) else LinearCombination.constant(w)
        )
