"""The JSON shapes of a compiled model directory, as `TypedDict`s.

``manifest.json`` (`ManifestJson`) nests the quantization config (`QuantConfigJson`), the
input and output specs (`IOSpecJson`), the public-input layout (`PublicLayoutJson`), the
constraints per node (`NodeJson`) and the error report (`ErrorReport`). Writers build these
shapes; readers take ``Any`` (the file may hold anything) and check each field as they
convert it, raising `FormatError` with the file's path.

The one open part: each entry of ``ErrorReport["approximations"]`` is the report of one
approximation (its node, op type and the fields its plan records), so its keys depend on
the kind of approximation.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class QuantConfigJson(TypedDict):
    """`QuantConfig.to_json`: every field, pair fields as objects."""

    input_scale: int
    weight_scale: int
    act_scale: int
    input_bits: int
    act_bits: int
    output_bits: int
    acc_bits: int
    pack: bool
    approx: dict[str, int]
    tensor_bits: dict[str, int]


class IOSpecJson(TypedDict):
    """One model input or output: its name, shape, fraction bits and signed width."""

    name: str
    shape: list[int]
    scale: int
    bits: int


class PackingJson(TypedDict):
    bits: int
    per_word: int


class BindingPartJson(TypedDict):
    name: Literal["binding"]
    words: int


class ValuesPartJson(TypedDict):
    """The inputs or the outputs of the statement: how many values, in how many words."""

    name: Literal["inputs", "outputs"]
    words: int
    values: int
    bits: int
    per_word: int


class PublicLayoutJson(TypedDict):
    n_public: int
    order: list[BindingPartJson | ValuesPartJson]


class NodeJson(TypedDict):
    index: int
    name: str
    op_type: str
    constraints: int


class FileRefJson(TypedDict):
    file: str
    sha256: str


class ErrorReport(TypedDict):
    """|circuit - onnxruntime| over the samples the compile step ran."""

    samples: int
    #: what the samples were: "calibration samples" or "uniform [-1, 1]"
    inputs: str
    max_abs_err: float
    mean_abs_err: float
    max_abs_err_per_output: dict[str, float]
    #: samples whose witness overflowed a width, and the first such error's message
    overflows: int
    first_overflow: str | None
    approximations: list[dict[str, Any]]


class ManifestJson(TypedDict):
    """``manifest.json``."""

    format: str
    source: str
    model: FileRefJson
    r1cs: FileRefJson
    quantization: QuantConfigJson
    inputs: list[IOSpecJson]
    outputs: list[IOSpecJson]
    public_inputs: PublicLayoutJson
    constraints: int
    wires: int
    nodes: list[NodeJson]
    error_report: ErrorReport


class ModelInfoJson(ManifestJson):
    """`circuits.info`: the manifest and the key directory's setup description (None
    before `setup`)."""

    setup: dict[str, Any] | None
