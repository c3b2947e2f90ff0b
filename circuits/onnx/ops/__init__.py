"""Lowerings of ONNX operators, one module per family; importing this package registers
all of them (see `circuits.onnx.registry` for the calling convention).

* `arith`: Add, Sub, Mul, Div, Neg, Sum, Relu, Identity, Dropout, Cast;
* `linear`: Gemm, MatMul, Conv, BatchNormalization;
* `pool`: AveragePool, GlobalAveragePool, ReduceSum, ReduceMean;
* `shape`: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Slice, Gather, Pad,
  Shape, Constant;
* `nonlinear` and `compare`: activations approximated in fixed point, comparisons,
  max/min pooling and reductions.

* `ml_linear` (with `ml_post`): the ONNX-ML linear models and preprocessing;
* `ml_trees` (with `ml_tree_ir` and `ml_tree_circuit`): the ONNX-ML tree ensembles.

* `control`: Loop and Scan with a static trip count, unrolled;
* `recurrent` (with `recurrent_run`): LSTM, GRU and RNN unrolled over time.

`geometry` holds the sliding-window arithmetic Conv and the pooling operators share.
"""

from circuits.onnx.ops import (
    arith,
    compare,
    control,
    linear,
    ml_linear,
    ml_trees,
    nonlinear,
    pool,
    recurrent,
    recurrent_run,
    shape,
)

__all__ = [
    "arith",
    "compare",
    "control",
    "linear",
    "ml_linear",
    "ml_trees",
    "nonlinear",
    "pool",
    "recurrent",
    "recurrent_run",
    "shape",
]
