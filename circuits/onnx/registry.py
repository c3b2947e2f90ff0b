"""The operator registry and the context every lowering receives.

One function per ONNX operator, named exactly like the operator and registered with
`onnx_op`:

    from circuits.onnx.registry import LoweringContext, Operand, Result, onnx_op

    @onnx_op("LeakyRelu")
    def LeakyRelu(ctx: LoweringContext, X: Operand, *, alpha: float = 0.01) -> Result:
        ...

Calling convention (the graph walker in `compiler.py` does this):

* Inputs are positional, in the node's input order. A constant input (an initializer, a
  `Constant`, anything computed from constants only, a shape) arrives as a numpy array
  with its ONNX dtype (float32 weights stay float32; quantize with `ctx.quantize_const`);
  a value that depends on the model inputs arrives as a `QTensor`. An omitted optional
  input in the middle arrives as None; trailing omitted inputs are not passed, so give
  them defaults.
* Attributes are keyword arguments with the spec's defaults, decoded to Python: int,
  float, str, list[int], list[float], list[str], numpy array (tensor attributes). An
  attribute the function does not accept makes the compile fail naming the node.
  Opset-dependent semantics: read ``ctx.opset``.
* A node whose inputs are all constant never reaches its lowering: the walker folds it
  with the ONNX reference evaluator. So a lowering always has at least one `QTensor`.
* Return one `QTensor` or numpy array per node output (a tuple for several outputs; a
  lowering may return fewer outputs than the node declares only if the missing ones are
  unused). The walker checks every returned bound against ``config.acc_bits``.
* Constraints emitted during a lowering are labelled with the node (the walker opens a
  `builder.gadget` scope per node), so per-node constraint counts come for free; gadgets
  open their own nested scopes.

Scales: a lowering may return any scale. Linear ops (Gemm, Conv, Add...) return their
accumulator scale without rescaling; an op that needs a bounded, activation-scale input
(a multiplication of two tensors, a nonlinearity) calls `ctx.activation(x)`, which
rescales once per tensor (cached) and range-checks to the activation width.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from circuits.errors import UnsupportedOpError
from circuits.onnx.context import LoweringContext
from circuits.onnx.tensor import Const, Operand, QTensor, Result

__all__ = [
    "ML_DOMAIN",
    "ML_OPS",
    "OPS",
    "Const",
    "Lowering",
    "LoweringContext",
    "Operand",
    "QTensor",
    "Result",
    "onnx_op",
]

Lowering = Callable[..., Result]
F = TypeVar("F", bound=Lowering)

#: The ONNX-ML domain (tree ensembles, linear models, preprocessing).
ML_DOMAIN = "ai.onnx.ml"
#: op_type -> lowering function of the default ONNX domain.
OPS: dict[str, Lowering] = {}
#: op_type -> lowering function of the `ML_DOMAIN` operators.
ML_OPS: dict[str, Lowering] = {}


def onnx_op(op_type: str, domain: str = "") -> Callable[[F], F]:
    """Register the lowering of `op_type` in `domain` ("" or `ML_DOMAIN`). The function
    should carry the op's name."""
    table = ML_OPS if domain == ML_DOMAIN else OPS

    def deco(fn: F) -> F:
        if op_type in table and table[op_type] is not fn:
            raise ValueError(f"operator {op_type!r} is registered twice")
        table[op_type] = fn
        return fn

    return deco


def get_lowering(op_type: str, domain: str, node: str, opset: int) -> Lowering:
    """The lowering of an op, or `UnsupportedOpError` naming op type, node and opset."""
    _load_ops()
    if domain not in ("", "ai.onnx", ML_DOMAIN):
        raise UnsupportedOpError(op_type, node, opset, f"custom domain {domain!r}")
    table = ML_OPS if domain == ML_DOMAIN else OPS
    fn = table.get(op_type)
    if fn is None:
        where = f" of domain {domain}" if domain == ML_DOMAIN else ""
        raise UnsupportedOpError(
            op_type, node, opset, f"supported operators{where}: {', '.join(sorted(table))}"
        )
    return fn


def supported_ops() -> list[str]:
    """Names of every registered operator, sorted (ONNX-ML ones prefixed with the domain)."""
    _load_ops()
    return sorted(OPS) + sorted(f"{ML_DOMAIN}.{k}" for k in ML_OPS)


def _load_ops() -> None:
    # The op modules register themselves on import; importing them here (not at module
    # level) keeps `registry` importable from the op modules without a cycle.
    import circuits.onnx.ops  # noqa: F401
