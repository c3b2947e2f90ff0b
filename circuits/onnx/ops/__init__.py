"""Lowerings of ONNX operators, one module per family; importing this package registers
all of them (see `circuits.onnx.registry` for the calling convention).

* `arith`: Add, Sub, Mul, Div, Neg, Sum, Relu, Identity, Dropout, Cast;
* `linear`: Gemm, MatMul, Conv, BatchNormalization;
* `pool`: AveragePool, GlobalAveragePool, ReduceSum, ReduceMean;
* `shape`: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Slice, Gather, Pad
  (constant, reflect, edge, wrap), Shape, Constant;
* `contract`: Einsum, ConvTranspose;
* `resize`: Resize (nearest, linear, cubic);
* `quantized`: QuantizeLinear, DequantizeLinear, MatMulInteger, QLinearMatMul,
  QLinearConv; `dynamic_quant`: DynamicQuantizeLinear;
* `activations`: Erf, Gelu, Mish, Elu, Selu, HardSwish;
* `powers`: Sqrt, Reciprocal, Log, Pow (constant exponents; `pow_frac` for the ones
  other than integers and +-1/2), and Div by a tensor;
* `reduce`: Mean, ReduceL1, ReduceL2, ReduceSumSquare, ReduceProd, ReduceLogSumExp, TopK;
* `normalization`: LayerNormalization, InstanceNormalization;
* `rounding`: Floor, Ceil, Round, Sign;
* `indexing`: Expand, Tile, Split, DepthToSpace, SpaceToDepth, GatherElements,
  ScatterElements, ScatterND (none, add, mul, max, min), CumSum, ConstantOfShape, Range;
* `logic`: Equal, Less, Greater, LessOrEqual, GreaterOrEqual, Not, And, Or, Xor, Where;
* `nonlinear` and `compare`: activations approximated in fixed point, comparisons,
  max/min pooling and reductions (`pool_indices`: MaxPool's Indices output).

* `ml_linear` (with `ml_post`): the ONNX-ML linear models and preprocessing;
* `ml_trees` (with `ml_tree_ir` and `ml_tree_circuit`): the ONNX-ML tree ensembles.

* `control`: Loop and Scan with a static trip count, unrolled;
* `recurrent` (with `recurrent_run`): LSTM, GRU and RNN unrolled over time.

`geometry` holds the sliding-window arithmetic Conv and the pooling operators share.
"""

from circuits.onnx.ops import (
    activations,
    arith,
    compare,
    contract,
    control,
    dynamic_quant,
    indexing,
    linear,
    logic,
    ml_linear,
    ml_trees,
    nonlinear,
    normalization,
    pool,
    powers,
    quantized,
    recurrent,
    recurrent_run,
    reduce,
    resize,
    rounding,
    shape,
)

__all__ = [
    "activations",
    "arith",
    "compare",
    "contract",
    "control",
    "dynamic_quant",
    "indexing",
    "linear",
    "logic",
    "ml_linear",
    "ml_trees",
    "nonlinear",
    "normalization",
    "pool",
    "powers",
    "quantized",
    "recurrent",
    "recurrent_run",
    "reduce",
    "resize",
    "rounding",
    "shape",
]
