"""The static graph the compiler walks, importable without onnx.

`OnnxGraph` is part of a compiled model, which the prove path unpickles from the model
directory: so this module imports neither onnx nor numpy, and a pickled graph keeps its
nodes serialised (onnx parses them again only when someone reads ``nodes``, which proving
never does). `circuits.onnx.loader` builds these objects from ONNX files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

    from circuits.onnx.tensor import Const

#: ONNX element types (`onnx.TensorProto.DataType`, fixed by the ONNX specification).
BOOL = 9
FLOAT_INPUTS = (1, 11, 10)  # FLOAT, DOUBLE, FLOAT16
#: Integer (and boolean) inputs enter the circuit exactly, at scale 0:
#: INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8, BOOL.
INT_INPUTS = (7, 6, 5, 3, 13, 12, 4, 2, BOOL)


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: name, static shape, ONNX element type."""

    name: str
    shape: tuple[int, ...]
    elem_type: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def is_integer(self) -> bool:
        """An integer or boolean tensor (quantized exactly, at scale 0)."""
        return self.elem_type in INT_INPUTS


@dataclass(frozen=True, eq=False)
class OnnxGraph:
    """A checked model with static shapes, ready to be walked node by node."""

    path: str
    sha256: str
    data: bytes
    opset: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    constants: dict[str, Const]
    nodes: tuple[onnx.NodeProto, ...]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["nodes"] = tuple(n.SerializeToString() for n in self.nodes)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self.__dict__["_node_bytes"] = state.pop("nodes")
        self.__dict__.update(state)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Only reached for `nodes` of an unpickled graph: parse them on first use.
            if name != "nodes" or "_node_bytes" not in self.__dict__:
                raise AttributeError(name)
            import onnx

            nodes = tuple(onnx.NodeProto.FromString(b) for b in self.__dict__["_node_bytes"])
            self.__dict__["nodes"] = nodes
            return nodes
