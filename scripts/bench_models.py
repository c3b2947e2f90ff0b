"""Benchmark the model pipeline on the test models and print a table.

    python scripts/bench_models.py [--json PATH] [--proofs N] [--samples N] [--backend NAME]

For each model (8->16->1 MLP; 32->64->32->1 MLP with a Sigmoid head; 1x8x8 CNN with a
4x3x3 Conv, ReLU, Flatten, Dense 2; a transformer-style block over 4 tokens of width 8:
LayerNormalization, single-head attention with Softmax, a Gelu feed-forward of width 16,
residuals; the 8->16->4 MLP quantized by onnxruntime's quantize_static, QDQ), in a fresh
process so peak memory is per model: constraints, compile_s (load + lower + r1cs
encoding), setup_s, witness_s and prove_s (means over --proofs proofs), verify_s (the
pure-Python verifier), peak_rss_mb, and max_abs_err of the circuit's outputs against
onnxruntime over --samples random inputs uniform in [-1, 1]. Targets: prove < 0.25 s,
< 1 s, < 1.5 s; max_abs_err < 1e-4 (the quantized model is compared with onnxruntime
running the same 8-bit model).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from circuits import pipeline
from circuits.formats import r1cs as r1cs_format
from circuits.onnx import examples
from circuits.onnx.calibrate import random_samples, run_reference
from circuits.onnx.compiler import compile_graph
from circuits.onnx.loader import load_model

MODELS = {
    "mlp_8_16_1": lambda: examples.mlp((8, 16, 1)),
    "mlp_32_64_32_1_sigmoid": lambda: examples.mlp((32, 64, 32, 1), head="Sigmoid"),
    "cnn_1x8x8_conv4x3x3_dense2": lambda: examples.cnn(),
    "transformer_block_4x8": lambda: examples.transformer_block(),
    "mlp_8_16_4_ort_int8": lambda: examples.quantized_mlp(),
}
TARGET_PROVE_S = {
    "mlp_8_16_1": 0.25,
    "mlp_32_64_32_1_sigmoid": 1.0,
    "cnn_1x8x8_conv4x3x3_dense2": 1.5,
    "transformer_block_4x8": 5.0,
    "mlp_8_16_4_ort_int8": 1.0,
}
COLUMNS = (
    "constraints",
    "compile_s",
    "setup_s",
    "witness_s",
    "prove_s",
    "verify_s",
    "peak_rss_mb",
    "max_abs_err",
)


def bench_one(name: str, proofs: int, samples: int, backend: str) -> dict[str, Any]:
    quiet = lambda _m: None  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="zkoracle-bench-") as tmp:
        path = examples.save(MODELS[name](), Path(tmp) / f"{name}.onnx")
        t0 = time.perf_counter()
        compiled = compile_graph(load_model(path))
        r1cs_format.encode(compiled.circuit.cs)
        compile_s = time.perf_counter() - t0
        out = Path(tmp) / "out"
        pipeline.compile_model(path, out)
        t0 = time.perf_counter()
        pipeline.setup(out, backend=backend, progress=quiet)
        setup_s = time.perf_counter() - t0
        inputs = random_samples(compiled.graph, max(samples, proofs), seed=1)
        pipeline.prove(out, inputs[0])  # loads the keys once, as a long-lived prover would
        results = [pipeline.prove(out, x) for x in inputs[:proofs]]
        t0 = time.perf_counter()
        assert pipeline.verify(out, results[0].proof, results[0].public)
        verify_s = time.perf_counter() - t0
        refs = run_reference(compiled.graph, inputs[:samples])
        err = 0.0
        for x, ref in zip(inputs[:samples], refs, strict=True):
            got = compiled.outputs_from_public(compiled.witness(x).public)
            for k, v in got.items():
                err = max(err, float(np.max(np.abs(v - np.asarray(ref[k], dtype=np.float64)))))
    return {
        "model": name,
        "constraints": compiled.circuit.cs.n_constraints,
        "compile_s": compile_s,
        "setup_s": setup_s,
        "witness_s": float(np.mean([r.witness_s for r in results])),
        "prove_s": float(np.mean([r.prove_s + r.witness_s for r in results])),
        "verify_s": verify_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_abs_err": err,
        "target_prove_s": TARGET_PROVE_S[name],
        "backend": backend,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'model':<28}" + "".join(f"{c:>13}" for c in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = [f"{r[c]:>13d}" if isinstance(r[c], int) else f"{r[c]:>13.3g}" for c in COLUMNS]
        lines.append(f"{r['model']:<28}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--proofs", type=int, default=5, help="proofs per model (default 5)")
    ap.add_argument(
        "--samples", type=int, default=100, help="random inputs for max_abs_err (default 100)"
    )
    ap.add_argument("--backend", default=pipeline.DEFAULT_BACKEND, choices=pipeline.BACKENDS)
    ap.add_argument("--one", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:  # child process: one model, JSON on stdout
        print(json.dumps(bench_one(args.one, args.proofs, args.samples, args.backend)))
        return 0
    rows = []
    for name in MODELS:
        print(f"benchmarking {name}...", file=sys.stderr, flush=True)
        cmd = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--proofs",
            str(args.proofs),
            "--samples",
            str(args.samples),
        ]
        done = subprocess.run(
            [*cmd, "--backend", args.backend], capture_output=True, text=True, check=False
        )
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
