"""The compiled model as the prove path reads it: no onnx needed, nothing lost."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import onnx

from circuits.onnx import examples, graph
from circuits.onnx.compiler import compile_graph
from circuits.onnx.loader import load_model_bytes

ROOT = Path(__file__).parents[3]


def test_element_type_codes_are_onnx_own() -> None:
    tp = onnx.TensorProto
    assert graph.BOOL == tp.BOOL
    assert graph.FLOAT_INPUTS == (tp.FLOAT, tp.DOUBLE, tp.FLOAT16)
    want = (tp.INT64, tp.INT32, tp.INT16, tp.INT8, tp.UINT64, tp.UINT32, tp.UINT16, tp.UINT8)
    assert (*want, tp.BOOL) == graph.INT_INPUTS


def test_a_pickled_graph_keeps_its_nodes() -> None:
    g = load_model_bytes(examples.cnn().SerializeToString(), "cnn.onnx")
    again = pickle.loads(pickle.dumps(g))
    assert "nodes" not in again.__dict__  # parsed only when read
    assert again.nodes == g.nodes and again.inputs == g.inputs and again.sha256 == g.sha256
    assert pickle.loads(pickle.dumps(again)).nodes == g.nodes


def test_unpickling_a_compiled_model_imports_no_onnx(tmp_path: Path) -> None:
    g = load_model_bytes(examples.mlp((3, 4, 1)).SerializeToString(), "mlp.onnx")
    compiled = compile_graph(g)
    (tmp_path / "c.pickle").write_bytes(pickle.dumps(compiled))
    want = compiled.witness({"x": [[0.5, -0.25, 0.125]]}).values
    code = (
        "import pickle, sys\n"
        f"c = pickle.loads(open({str(tmp_path / 'c.pickle')!r}, 'rb').read())\n"
        "w = c.witness({'x': [[0.5, -0.25, 0.125]]})\n"
        "print(int('onnx' in sys.modules), int('circuits.onnx.compiler' in sys.modules))\n"
        "print(' '.join(map(str, w.values)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert out[0] == "0 0"
    assert [int(v) for v in out[1].split()] == want
