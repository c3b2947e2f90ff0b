"""The ONNX frontend: load a model, lower each operator to fixed-point R1CS constraints.

* `loader`: read, check and shape-infer an ONNX file; reject dynamic shapes.
* `quant`: the frozen `QuantConfig` and the float <-> integer maps.
* `tensor`: `QTensor`, numpy arrays of circuit values with a scale and a static bound.
* `registry` / `context`: one lowering function per operator and what it receives.
* `compiler`: the graph walker that builds the circuit and its public statement.
"""
