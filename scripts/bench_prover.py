"""Prover benchmark: building, solving, writing, setup, proving and verifying per size.

Two circuits per size (``--circuits``):

* ``chain``: a chain of squarings built with our Builder, filling a domain of 2^n,

      x_0 = s (private),  x_{i+1} = x_i * x_i + c  (2^n - 4 products),  y = x_last (public)

  whose witness is random-looking field elements: the prover's worst case;
* ``vision`` (only when asked for; the size is its own): a vision model of about one
  million public parameters (two strided convolutions and a dense head on 1x28x28),
  built with onnx.helper in this script;
* ``cnn``: a real model of about 2^n constraints, `circuits.onnx.examples.cnn` (1 x S x S
  -> Conv 8 x 3 x 3 -> ReLU -> Dense 2, S chosen for the size) compiled by our ONNX
  compiler, proved on an input in [-1, 1]. Its witness is what zkML circuits hold: range-
  check bits, selectors and small quantized values (the native prover's MSMs skip zeros and
  work on small scalars over their own bits only, so this row is the realistic one).

Each (size, backend) runs in a fresh Python process so that its peak RSS is its own: the
measuring process's for native and groth16py (in process), the largest node child's for
snarkjs. snarkjs runs only up to ``--snarkjs-max`` (default 2^12), groth16py up to
``--groth16py-max`` (2^16); snarkjs' prepared powers of tau is made once (with a real
contribution) and cached under ``build/zkoracle-cache`` (``ZKORACLE_CACHE_DIR`` if set),
before any timing starts.

Columns (seconds, wall clock unless named cpu):

* ``setup_s`` development setup from the ``.r1cs``;
* native only: ``load_s`` the proving key and the ``.r1cs`` read into memory (a cold
  process's cost), ``transfer_s`` the witness from Python ints to the bytes handed to the
  extension, ``check_s`` every constraint checked natively, ``prove_s`` witness in memory
  to proof (best of two; ``prove_cpu_s`` the CPU seconds of all its threads),
  ``prove_1t_s`` the same on one thread, ``prove_checked_s`` the whole `Backend.prove`
  (shape check, constraint check, proof, verification);
* groth16py and snarkjs: ``prove_cold_s`` / ``prove_s`` the prover on the ``.wtns`` (first
  run with the key load, then with the key loaded);
* ``verify_s`` one verification by the backend, ``pk_mb`` the proving-key file,
  ``peak_rss_mb`` the measuring process's peak memory (for native, with the circuit built
  and solved in Python), native ``prover_rss_mb`` the peak memory of a fresh process that
  only loads the key and proves (the daemon's prover worker), ``loadavg`` the machine's
  1-minute load average when the record was taken (wall times on a shared machine depend
  on it).

Usage::

    python scripts/bench_prover.py --sizes 12,16,18 --json bench-prover.json
    python scripts/bench_prover.py --sizes 12 --backends native,snarkjs
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from circuits.builder import Builder
from circuits.formats import r1cs as r1cs_format
from circuits.formats import wtns as wtns_format
from circuits.groth16.backend import get_backend
from circuits.program import Circuit


def chain_circuit(log2: int) -> Circuit:
    """2^log2 - 3 constraints (2^log2 - 4 squarings and the constraint assigning y): with
    the 3 rows of the public inputs (1, c, y) they fill a domain of 2^log2 exactly, for
    arkworks and for snarkjs (whose powers of tau then need 2^log2 points, not twice)."""
    b = Builder()
    c = b.public_input("c")
    y = b.public_input("y")
    cur = b.private_input("s")
    for _ in range((1 << log2) - 4):
        cur = b.mul(cur, cur) + c
    b.assign_public(y, cur)
    return b.build()


def cnn_circuit(log2: int) -> tuple[Circuit, Any]:
    """A compiled CNN of about 2^log2 constraints and its witness for a fixed input."""
    import numpy as np

    from circuits.onnx.compiler import compile_graph
    from circuits.onnx.examples import cnn
    from circuits.onnx.loader import load_model_bytes

    # About 42 constraints per Conv output (ReLU and rescale); 8 filters of 3 x 3.
    size = round(((1 << log2) / (8 * 42)) ** 0.5) + 2
    graph = load_model_bytes(cnn(size=size, filters=8).SerializeToString(), f"cnn{size}.onnx")
    compiled = compile_graph(graph)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 1, size, size))
    return compiled.circuit, compiled.witness({"x": x}, check=False)


def vision_model() -> Any:
    """A ~1M-parameter vision model, public weights, built here with onnx.helper (torch is
    not a dependency): 1x28x28 -> Conv 8x3x3 stride 2 -> ReLU -> Conv 16x3x3 stride 2 ->
    ReLU -> Flatten (576) -> Dense 1700 -> ReLU -> Dense 10 (999,158 parameters)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def init(name: str, *shape: int) -> onnx.TensorProto:
        lim = 1.0 / np.sqrt(np.prod(shape[1:]) if len(shape) > 1 else shape[0])
        arr = rng.uniform(-lim, lim, shape).astype(np.float32)
        return numpy_helper.from_array(arr, name)

    inits = [init("c1.w", 8, 1, 3, 3), init("c1.b", 8), init("c2.w", 16, 8, 3, 3)]
    inits += [init("c2.b", 16), init("f1.w", 1700, 576), init("f1.b", 1700)]
    inits += [init("f2.w", 10, 1700), init("f2.b", 10)]
    conv: dict[str, Any] = {"kernel_shape": [3, 3], "strides": [2, 2]}
    nodes = [
        helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["c1"], name="conv1", **conv),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "c2.w", "c2.b"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "f1.w", "f1.b"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r3"], name="relu3"),
        helper.make_node("Gemm", ["r3", "f2.w", "f2.b"], ["y"], name="fc2", transB=1),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    graph = helper.make_graph(nodes, "vision", [x], [y], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def vision_circuit(_log2: int) -> tuple[Circuit, Any]:
    """The ~1M-parameter vision model compiled, and its witness for a fixed image."""
    import numpy as np

    from circuits.onnx.compiler import compile_graph
    from circuits.onnx.loader import load_model_bytes

    model = vision_model()
    graph = load_model_bytes(model.SerializeToString(), "vision.onnx")
    compiled = compile_graph(graph)
    x = np.random.default_rng(0).uniform(0, 1, (1, 1, 28, 28))
    return compiled.circuit, compiled.witness({"x": x}, check=False)


def _timed(record: dict[str, Any], key: str, fn: Any, *args: Any, **kw: Any) -> Any:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    record[key] = round(time.perf_counter() - t0, 4)
    return out


def _best(rec: dict[str, Any], key: str, runs: int, fn: Any, *args: Any) -> Any:
    """The fastest of `runs` calls (the first may pay for page faults and pool start-up)."""
    times, cpus, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    rec[key] = round(min(times), 4)
    # CPU seconds of all threads: on a machine shared with other work, wall time says more
    # about the neighbours than about the prover.
    rec[key.replace("_s", "_cpu_s")] = round(min(cpus), 4)
    return out


def _native_steps(rec: dict[str, Any], info: Any, values: list[int], runs: int) -> None:
    """Key load, transfer, constraint check, proof (all cores and one thread), verify."""
    from circuits.provers import native

    native._KEYS.clear()
    key = _timed(rec, "load_s", native.load_key, info)
    data = _timed(rec, "transfer_s", native.field_bytes, values)
    _timed(rec, "check_s", key.first_unsatisfied, data)
    _best(rec, "prove_s", runs, key.prove, data)
    if runs > 1:
        _best(rec, "prove_1t_s", 1, key.prove, data, 1)
    rec["pk_mb"] = round(info.proving_key.stat().st_size / 2**20, 1)
    rec["prover_rss_mb"] = prover_rss(info, data)


def prover_rss(info: Any, witness: bytes) -> float:
    """Peak memory of a process that only loads the key and proves (what the daemon's
    prover worker holds), without this process's circuit build and Python witness."""
    wpath = info.proving_key.parent / "witness.bin"
    wpath.write_bytes(witness)
    cmd = [sys.executable, __file__, "--prove-only", str(info.proving_key), str(info.r1cs)]
    out = subprocess.run([*cmd, str(wpath)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def prove_only(pk: str, r1cs: str, witness: str) -> float:
    """Load the key, prove once from the witness file; this process's peak RSS in MB."""
    from circuits import _native

    key = _native.ProvingKey.load(pk, r1cs)
    key.prove(Path(witness).read_bytes())
    # VmHWM, not ru_maxrss: the latter keeps the spawning process's peak across exec.
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024  # type: ignore[union-attr]


def measure_one(
    log2: int, backend_name: str, work: Path, runs: int = 2, kind: str = "chain"
) -> dict[str, Any]:
    """One record; runs in the child process."""
    rec: dict[str, Any] = {"backend": backend_name, "circuit": kind, "log2": log2}
    cpu0 = time.process_time()
    if kind in ("cnn", "vision"):
        make = cnn_circuit if kind == "cnn" else vision_circuit
        circuit, witness = _timed(rec, "build_s", make, log2)
    else:
        circuit = _timed(rec, "build_s", chain_circuit, log2)
        witness = _timed(rec, "witness_s", circuit.solve, {"c": 7, "s": 3}, check=False)
    cs = circuit.cs
    rec["constraints"] = cs.n_constraints
    r1cs_path, wtns_path = work / "circuit.r1cs", work / "witness.wtns"
    t0 = time.perf_counter()
    r1cs_format.write(r1cs_path, cs)
    wtns_format.write(wtns_path, witness.values)
    rec["write_s"] = round(time.perf_counter() - t0, 4)
    rec["front_cpu_s"] = round(time.process_time() - cpu0, 4)
    backend = get_backend(backend_name, progress=lambda _m: None)
    info = _timed(rec, "setup_s", backend.setup, r1cs_path, work / "keys")
    if backend_name == "native":
        _native_steps(rec, info, witness.values, runs)
        proof = _timed(rec, "prove_checked_s", backend.prove, info.key_dir, witness)
    else:
        if backend_name == "groth16py":
            from circuits.provers import groth16py

            groth16py._PROVING_KEYS.clear()  # the cold run pays the key load
        _timed(rec, "prove_cold_s", backend.prove_wtns, info.key_dir, wtns_path)
        proof = _best(rec, "prove_s", runs - 1 or 1, backend.prove_wtns, info.key_dir, wtns_path)
    ok = _timed(rec, "verify_s", backend.verify, info.key_dir, witness.public, proof)
    if not ok:
        raise SystemExit(f"{backend_name} 2^{log2}: the proof does not verify")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rec["peak_rss_mb"] = round(child if backend_name == "snarkjs" else own, 1)
    rec["loadavg"] = round(os.getloadavg()[0], 1)
    return rec


def run_child(log2: int, backend: str, kind: str = "chain", runs: int = 2) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", str(log2), "--backends", backend]
    cmd += ["--circuits", kind, "--runs", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def prepare_ptau(max_log2: int) -> None:
    """Make (or find) the cached ptau for the largest snarkjs size, before timing."""
    from circuits.provers.snarkjs import SnarkjsBackend

    sj = SnarkjsBackend(progress=lambda m: print(m, file=sys.stderr, flush=True))
    path = sj.ptau_for(chain_circuit(max_log2).cs.n_constraints, 2)
    print(f"snarkjs ptau: {path}", file=sys.stderr)


COLUMNS = (
    "setup_s",
    "prove_cpu_s",
    "load_s",
    "transfer_s",
    "check_s",
    "prove_s",
    "prove_1t_s",
    "prove_checked_s",
    "verify_s",
    "pk_mb",
    "peak_rss_mb",
    "prover_rss_mb",
    "loadavg",
)


def table(records: list[dict[str, Any]]) -> str:
    head = ("backend", "circuit", "log2", "constraints", *COLUMNS)
    rows = [head]
    for r in records:
        cells = [r["backend"], r.get("circuit", "chain"), str(r["log2"]), str(r["constraints"])]
        cells += [f"{r[c]:.3f}" if c in r else "-" for c in COLUMNS]
        rows.append(tuple(cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


#: (log2, column, bound): the native prover's targets on a 2-core machine.
LIMITS = (
    (16, "prove_s", 1.0),
    (18, "prove_s", 4.0),
    (20, "prove_s", 16.0),
    (20, "prover_rss_mb", 3072.0),
    (16, "load_s", 0.3),
    (18, "load_s", 1.0),
    (16, "setup_s", 3.0),
)
#: (log2, other backend, bound on native prove time / other's).
RATIOS = ((16, "groth16py", 0.2), (12, "snarkjs", 0.1))
#: Two threads prove 2^16 at least this many times faster than one.
THREAD_SPEEDUP = 1.6


def _mark(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def targets(records: list[dict[str, Any]]) -> list[str]:
    # The targets are read on the worst case, the chain's random-looking witness.
    by = {(r["backend"], r["log2"]): r for r in records if r.get("circuit", "chain") == "chain"}
    out = []
    for log2, col, bound in LIMITS:
        r = by.get(("native", log2))
        if r is not None and col in r:
            out.append(f"{_mark(r[col] <= bound)} 2^{log2}: native {col} {r[col]:.3f} <= {bound}")
    for log2, other, bound in RATIOS:
        r, o = by.get(("native", log2)), by.get((other, log2))
        if r is not None and o is not None:
            ratio = r["prove_s"] / o["prove_s"]
            out.append(
                f"{_mark(ratio <= bound)} 2^{log2}: native prove {r['prove_s']:.3f} s = "
                f"{ratio:.3f} x {other} {o['prove_s']:.3f} s (target <= {bound})"
            )
    r = by.get(("native", 16))
    if r is not None and "prove_1t_s" in r:
        speedup = r["prove_1t_s"] / r["prove_s"]
        out.append(
            f"{_mark(speedup >= THREAD_SPEEDUP)} 2^16: all threads vs one: {speedup:.2f}x "
            f"(target >= {THREAD_SPEEDUP})"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="10,12,14,16,18", help="log2 of the constraint counts")
    ap.add_argument("--backends", default="native,groth16py,snarkjs")
    ap.add_argument(
        "--circuits", default="chain,cnn", help="chain (worst case), cnn (a model), vision"
    )
    ap.add_argument("--snarkjs-max", type=int, default=12, help="largest log2 run with snarkjs")
    ap.add_argument("--groth16py-max", type=int, default=16, help="largest log2 run with groth16py")
    ap.add_argument(
        "--runs", type=int, default=2, help="proofs per record (1: no one-thread proof)"
    )
    ap.add_argument("--json", type=Path, help="write the records to this file")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--prove-only", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.prove_only:
        print(round(prove_only(*args.prove_only), 1))
        return 0
    backends = [b for b in args.backends.split(",") if b]
    if args.one is not None:
        # As the zkoracle CLI does: the heap built by the imports (web3, numpy, groth16py,
        # ...) is frozen so that the collector's full passes during a build do not walk it.
        gc.freeze()
        with tempfile.TemporaryDirectory(prefix="zkoracle-bench-") as tmp:
            kind = args.circuits.split(",")[0]
            rec = measure_one(args.one, backends[0], Path(tmp), args.runs, kind)
            print(json.dumps(rec))
        return 0
    # snarkjs' prepared ptau is cached beside the build, not in the user's home.
    os.environ.setdefault(
        "ZKORACLE_CACHE_DIR", str(Path(__file__).parents[1] / "build/zkoracle-cache")
    )
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.circuits.split(",") if k]
    sj_sizes = [n for n in sizes if n <= args.snarkjs_max]
    if "snarkjs" in backends and sj_sizes:
        prepare_ptau(max(sj_sizes))
    records = []
    for n in sizes:
        for backend in backends:
            if (backend == "snarkjs" and n > args.snarkjs_max) or (
                backend == "groth16py" and n > args.groth16py_max
            ):
                continue
            for kind in kinds if backend == "native" else ["chain"]:
                print(f"measuring {backend} {kind} at 2^{n} ...", file=sys.stderr, flush=True)
                records.append(run_child(n, backend, kind, args.runs))
                if args.json:
                    args.json.write_text(json.dumps(records, indent=1) + "\n")
    print(table(records))
    print("\n".join(targets(records)))
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
