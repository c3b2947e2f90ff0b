"""Run the ONNX project's node test cases through the compiler.

The cases come from the onnx package itself (`onnx.backend.test.case.node`, the source of
the `onnx/backend/test/data/node` files): a one-node model (or its expansion into
primitive operators), input tensors and the expected outputs. A case is in scope when
every operator in it is one the compiler claims (`supported_ops`).

`run_case` calibrates on the case's own inputs, compiles, computes the witness with every
constraint checked (and, with `prove`, runs Groth16 setup, proof and verification), then
compares the public outputs with the expected ones within the quantization tolerance:
64 steps of the activation scale plus 1e-3 of the output's magnitude. Integer inputs that
an operator needs as constants (shapes, axes, indices, k) are baked into the model when
the compiler asks for a constant. `CONFORMANCE.md` lists every in-scope case that does
not pass, with the reason; the test module holds the two in step.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from circuits.errors import CircuitError
from circuits.onnx.calibrate import calibrate
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model_bytes
from circuits.onnx.registry import supported_ops

TABLE = Path(__file__).resolve().parents[3] / "circuits" / "onnx" / "CONFORMANCE.md"


@dataclass(frozen=True)
class Case:
    name: str
    model: onnx.ModelProto
    inputs: tuple[np.ndarray, ...]
    outputs: tuple[np.ndarray, ...]
    ops: frozenset[str]


@functools.cache
def in_scope() -> dict[str, Case]:
    """Every node test case whose operators are all claimed, by name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases

        raw = collect_testcases(None)
    claimed = set(supported_ops())
    out: dict[str, Case] = {}
    for t in raw:
        if t.model is None:
            continue
        nodes = t.model.graph.node
        ops = frozenset(n.op_type for n in nodes)
        if not ops or any(n.domain not in ("", "ai.onnx") for n in nodes) or not ops <= claimed:
            continue
        if not t.data_sets:
            continue
        ins, outs = t.data_sets[0]
        if not all(_is_tensor(v) for v in (*ins, *outs)):
            continue  # sequence or optional values: no tensor to put in a circuit
        out[t.name] = Case(t.name, t.model, _arrays(ins), _arrays(outs), ops)
    return out


def _is_tensor(v: Any) -> bool:
    if isinstance(v, onnx.TensorProto | np.ndarray | np.generic | int | float | bool):
        return True
    try:
        np.asarray(v)
    except ValueError:
        return False
    return not isinstance(v, list | tuple)


def _arrays(values: Any) -> tuple[np.ndarray, ...]:
    return tuple(
        numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else np.asarray(v)
        for v in values
    )


#: Element types no fixed-point circuit holds: reduced-precision floats whose rounding
#: is the point of the case, sub-byte integers onnx gives numpy no type for, strings.
UNREPRESENTABLE = frozenset(
    {
        onnx.TensorProto.BFLOAT16,
        onnx.TensorProto.FLOAT8E4M3FN,
        onnx.TensorProto.FLOAT8E4M3FNUZ,
        onnx.TensorProto.FLOAT8E5M2,
        onnx.TensorProto.FLOAT8E5M2FNUZ,
        onnx.TensorProto.STRING,
        *(
            getattr(onnx.TensorProto, n)
            for n in ("FLOAT4E2M1", "FLOAT8E8M0", "INT4", "UINT4", "INT2", "UINT2")
            if hasattr(onnx.TensorProto, n)
        ),
    }
)


def out_of_scope(case: Case) -> str | None:
    """Why a claimed case is outside the target, or None: an input or output of an element
    type no fixed-point circuit holds, or NaN / infinite values (IEEE semantics)."""
    for v in (*case.model.graph.input, *case.model.graph.output):
        t = v.type.tensor_type.elem_type
        if t in UNREPRESENTABLE:
            return f"{v.name!r} is {onnx.TensorProto.DataType.Name(t)}"
    for a in (*case.inputs, *case.outputs):
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            return "NaN or infinite values"
    return None


def _rows(heading: str) -> dict[str, str]:
    text = TABLE.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    part = text[start : end if end > 0 else len(text)]
    return dict(re.findall(r"^\| `(test_[^`]+)` \| (.+?) \|$", part, flags=re.M))


def expected_failures() -> dict[str, str]:
    """case name -> reason, for the in-scope cases that do not pass (CONFORMANCE.md)."""
    return _rows("## Cases that do not pass")


def listed_out_of_scope() -> dict[str, str]:
    """case name -> reason, for the claimed cases outside the target (CONFORMANCE.md)."""
    return _rows("## Out of scope")


def _feeds(case: Case) -> dict[str, np.ndarray]:
    names = [i.name for i in case.model.graph.input]
    inits = {t.name for t in case.model.graph.initializer}
    names = [n for n in names if n not in inits]
    return dict(zip(names, case.inputs, strict=False))


def _bake(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], names: list[str]
) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [v for v in m.graph.input if v.name not in names]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    for n in names:
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(feeds[n]), n))
    return m


def _compile(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> CompiledModel:
    graph = load_model_bytes(model.SerializeToString(), model.graph.name)
    sample = {i.name: np.asarray(feeds[i.name], dtype=np.float64) for i in graph.inputs}
    return compile_graph(graph, calibrate(graph, [sample]))


def compile_case(case: Case) -> tuple[CompiledModel, dict[str, np.ndarray]]:
    """The compiled case and its feeds. When the compiler asks for a constant (weights,
    shapes, axes, pads, k, trip counts, sequence lengths), inputs are baked into the model,
    as an exported model holds them: those after the first, then the integer ones, then
    both; the last error is raised when none compiles."""
    feeds = _feeds(case)
    names = list(feeds)
    ints = [n for n in names if feeds[n].dtype.kind in "iub"]
    attempts = [[], names[1:], ints, sorted(set(names[1:]) | set(ints))]
    error: CircuitError | None = None
    for baked in attempts:
        if error is not None and not baked:
            continue
        model = _bake(case.model, feeds, baked) if baked else case.model
        rest = {n: v for n, v in feeds.items() if n not in baked}
        try:
            return _compile(model, rest), rest
        except CircuitError as e:
            if not baked and not re.search(
                r"must be a constant|only constant|only a constant|depend on the model inputs"
                r"|is computed from the model inputs",
                str(e),
            ):
                raise
            error = e
    assert error is not None
    raise error


def tolerance(compiled: CompiledModel, want: np.ndarray) -> float:
    step = math.ldexp(1.0, -compiled.config.act_scale)
    mag = float(np.max(np.abs(want.astype(np.float64)), initial=0.0))
    return 64 * step + 1e-3 * mag


def run_case(case: Case, *, prove: bool = False) -> None:
    """Compile, witness (and prove), compare; raises on any failure."""
    compiled, feeds = compile_case(case)
    w = compiled.witness(feeds, binding=5, check=True)
    got = compiled.outputs_from_public(w.public)
    names = [o.name for o in case.model.graph.output]
    for name, want in zip(names, case.outputs, strict=True):
        have = got[name].reshape(np.shape(want))
        want_f = want.astype(np.float64)
        err = float(np.max(np.abs(have - want_f), initial=0.0))
        tol = tolerance(compiled, want_f)
        assert err <= tol, f"{case.name}: output {name!r} off by {err:.3g} > {tol:.3g}"
    if prove:
        from circuits.testing import prove_and_verify

        prove_and_verify(compiled.circuit, [w])


def classify(e: BaseException) -> str:
    """A short reason for a failure, for the table."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return f"{type(e).__name__}: {text}"[:200]


def _bounded(name: str, seconds: int, memory: int) -> str:
    """run_case(name) in a forked child limited to `seconds` and `memory` bytes: its
    result, or why it died (a case too large must not take the whole run down)."""
    import os
    import resource
    import signal

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one line, then leave without cleanup
        os.close(read)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        signal.alarm(seconds)
        try:
            run_case(in_scope()[name])
            result = "ok"
        except BaseException as e:  # every failure is reported
            result = classify(e)
        os.write(write, result.encode()[:4000])
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    return data.decode() or f"too large: the case died (wait status {status})"


def main(argv: list[str]) -> None:
    """Run every claimed case (witness only), each in a child bounded to 90 s and 4 GB
    (``ZKORACLE_CASE_SECONDS`` / ``ZKORACLE_CASE_GB``), and print one JSON line per case
    (name, seconds, "ok" or the error), then the counts:
    ``python tests/circuits/onnx/conformance.py [name filters...]``."""
    import json
    import os
    import time

    seconds = int(os.environ.get("ZKORACLE_CASE_SECONDS", "90"))
    memory = int(os.environ.get("ZKORACLE_CASE_GB", "4")) << 30
    cases = in_scope()
    names = [n for n in sorted(cases) if not argv or any(k in n for k in argv)]
    passed = target = 0
    for name in names:
        t = time.time()
        result = _bounded(name, seconds, memory)
        print(json.dumps([name, round(time.time() - t, 2), result]), flush=True)
        if out_of_scope(cases[name]) is None:
            target += 1
            passed += result == "ok"
    share = f"{100 * passed / target:.1f}%" if target else "-"
    print(json.dumps(["#in scope", target, "#pass", passed, share]), flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
