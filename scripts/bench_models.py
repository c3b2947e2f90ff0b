"""Benchmark the model pipeline on the test models and print a table.

    python scripts/bench_models.py [--json PATH] [--proofs N] [--samples N] [--backend NAME]
        [--modes public,private-weights,private-inputs] [--gas]

For each model (8->16->1 MLP; 32->64->32->1 MLP with a Sigmoid head; 1x8x8 CNN with a
4x3x3 Conv, ReLU, Flatten, Dense 2; a transformer-style block over 4 tokens of width 8:
LayerNormalization, single-head attention with Softmax, a Gelu feed-forward of width 16,
residuals; the 8->16->4 MLP quantized by onnxruntime's quantize_static, QDQ), in a fresh
process so peak memory is per model: constraints, compile_s (load + lower + r1cs
encoding), setup_s, witness_s and prove_s (means over --proofs proofs; prove_cpu_s is the
process CPU time per proof, all prover threads, which a loaded machine does not inflate
the way it inflates wall time), verify_s (the
pure-Python verifier), peak_rss_mb, and max_abs_err of the circuit's outputs against
onnxruntime over --samples random inputs uniform in [-1, 1]. Targets: prove < 0.25 s,
< 1 s, < 1.5 s; max_abs_err < 1e-4 (the quantized model is compared with onnxruntime
running the same 8-bit model).

Then the ONNX-ML models of `ml_bench_models` (a 100-tree GBDT, a random forest, a logistic
regression), with two more columns: per_node, the constraints per interior tree node, and
label_agree, the share of inputs whose label equals onnxruntime's (max_abs_err then
covers the probabilities only). Targets: GBDT prove <= 1.5 s, logistic <= 0.1 s.

Modes (compile-time visibility): ``public``; ``private-weights`` (weights committed:
``c_per_weight`` is the extra constraints per weight over the public circuit, of which
``commit_per_weight`` are the range checks and Poseidon hashing of the commitment, the
rest the multiplications by weight wires; every family commits its constants: tree
thresholds, leaf weights and base values, linear coefficients and intercepts, recurrent
W, R, B; ``per_node`` then counts the private tree's sortedness proofs and located
thresholds); ``private-inputs`` (inputs committed). With
``--gas``, each model is also deployed on Anvil and one request fulfilled (through
``requestPrivate`` for private inputs): ``fulfill_gas``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

import circuits
from circuits import Visibility, new_salt
from circuits.formats import r1cs as r1cs_format
from circuits.onnx import examples
from circuits.onnx.calibrate import random_samples, run_reference
from circuits.onnx.compiler import CompiledModel, compile_graph
from circuits.onnx.loader import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ml_bench_models

MODELS = {
    "mlp_8_16_1": lambda: examples.mlp((8, 16, 1)),
    "mlp_32_64_32_1_sigmoid": lambda: examples.mlp((32, 64, 32, 1), head="Sigmoid"),
    "cnn_1x8x8_conv4x3x3_dense2": lambda: examples.cnn(),
    "transformer_block_4x8": lambda: examples.transformer_block(),
    "mlp_8_16_4_ort_int8": lambda: examples.quantized_mlp(),
    **ml_bench_models.MODELS,
}
TARGET_PROVE_S = {
    "mlp_8_16_1": 0.25,
    "mlp_32_64_32_1_sigmoid": 1.0,
    "cnn_1x8x8_conv4x3x3_dense2": 1.5,
    "transformer_block_4x8": 5.0,
    "mlp_8_16_4_ort_int8": 1.0,
    **ml_bench_models.TARGET_PROVE_S,
}
MODES = {
    "public": Visibility(),
    "private-weights": Visibility("private"),
    "private-inputs": Visibility("public", "private"),
}
COLUMNS = (
    "constraints",
    "c_per_weight",
    "commit_per_weight",
    "compile_s",
    "setup_s",
    "witness_s",
    "prove_s",
    "prove_cpu_s",
    "verify_s",
    "peak_rss_mb",
    "max_abs_err",
    "per_node",
    "label_agree",
    "fulfill_gas",
)


def bench_one(
    name: str, mode: str, proofs: int, samples: int, backend: str, gas: bool
) -> dict[str, Any]:
    quiet = lambda _m: None  # noqa: E731
    vis = MODES[mode]
    with tempfile.TemporaryDirectory(prefix="zkoracle-bench-") as tmp:
        path = examples.save(MODELS[name](), Path(tmp) / f"{name}.onnx")
        t0 = time.perf_counter()
        compiled = compile_graph(load_model(path), visibility=vis)
        r1cs_format.encode(compiled.circuit.cs)
        compile_s = time.perf_counter() - t0
        out = Path(tmp) / "out"
        circuits.compile_model(path, out, visibility=vis)
        t0 = time.perf_counter()
        circuits.setup(out, backend=backend, progress=quiet)
        setup_s = time.perf_counter() - t0
        inputs = random_samples(compiled.graph, max(samples, proofs), seed=1)
        circuits.prove(out, inputs[0])  # loads the keys once, as a long-lived prover would
        cpu0 = time.process_time()
        results = [circuits.prove(out, x) for x in inputs[:proofs]]
        prove_cpu_s = (time.process_time() - cpu0) / max(proofs, 1)
        t0 = time.perf_counter()
        assert circuits.verify(out, results[0].public, results[0].proof)
        verify_s = time.perf_counter() - t0
        refs = run_reference(compiled.graph, inputs[:samples])
        salts = {k: new_salt() for k in compiled.salt_names}
        got = [
            compiled.dequantize_outputs(compiled.output_values(compiled.witness(x, salts=salts)))
            for x in inputs[:samples]
        ]
        err = 0.0
        for g, ref in zip(got, refs, strict=True):
            for k, v in g.items():
                if "label" not in k:
                    diff = np.abs(v.reshape(-1) - np.asarray(ref[k], np.float64).reshape(-1))
                    err = max(err, float(np.max(diff)))
        model = onnx.load_model_from_string(compiled.graph.data)
        extra = ml_bench_models.extra_columns(compiled, model, inputs[:samples], got, refs)
        fulfill_gas = _fulfill_gas(out, inputs[0]) if gas else 0
    return {
        "model": name,
        "mode": mode,
        "constraints": compiled.circuit.cs.n_constraints,
        **_per_weight(name, compiled),
        "compile_s": compile_s,
        "setup_s": setup_s,
        "witness_s": float(np.mean([r.witness_s for r in results])),
        "prove_s": float(np.mean([r.prove_s + r.witness_s for r in results])),
        "prove_cpu_s": prove_cpu_s,
        "verify_s": verify_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_abs_err": err,
        **extra,
        "fulfill_gas": fulfill_gas,
        "target_prove_s": TARGET_PROVE_S[name],
        "backend": backend,
    }


def _per_weight(name: str, compiled: CompiledModel) -> dict[str, float]:
    """Constraints per private weight: all extra ones, and the commitment's share."""
    n = sum(len(t.values) for t in compiled.private_weights)
    if not n:
        return {"c_per_weight": 0.0, "commit_per_weight": 0.0}
    public = compile_graph(compiled.graph, compiled.config).circuit.cs.n_constraints
    commit = next(c.constraints for c in compiled.nodes if c.op_type == "Commitment")
    extra = compiled.circuit.cs.n_constraints - public
    return {"c_per_weight": extra / n, "commit_per_weight": commit / n}


def _fulfill_gas(model_dir: Path, x: Any) -> int:
    """Deploy on a fresh Anvil, place one request (private if the inputs are) and fulfill
    it with a real proof; the fulfillment's gas."""
    from oracle import chain as chains
    from oracle.hub import Hub, deploy_model
    from oracle.private_inputs import public_key_of, send_private_request

    loaded = circuits.load_model_dir(model_dir)
    lay = loaded.manifest.layout
    with chains.connect("anvil", signer=None) as chain:
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        q = loaded.compiled.quantize_inputs(x)
        flat = [v for name in q for v in q[name]]
        salts: dict[str, int] = {}
        if lay.inputs_committed:
            # Sealed to a throwaway key: this process proves with the inputs it has.
            key = public_key_of(os.urandom(32))
            sent = send_private_request(hub, dep.model_id, flat, key, bits=lay.inputs.bits)
            rid, salts = sent.request_id, {"inputs": sent.salt}
        else:
            rid = hub.request(dep.model_id, flat).request_id
        binding = hub.request_binding(rid, chain.sender)
        res = loaded.prove(x, binding, salts)
        done = hub.fulfill(rid, lay.chain_outputs(res.public), res.proof)
        return done.tx.gas_used


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'model':<28}{'mode':<16}" + "".join(f"{c:>13}" for c in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = [f"{r[c]:>13d}" if isinstance(r[c], int) else f"{r[c]:>13.3g}" for c in COLUMNS]
        lines.append(f"{r['model']:<28}{r['mode']:<16}" + "".join(cells))
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
    ap.add_argument("--backend", default=circuits.DEFAULT_BACKEND, choices=circuits.BACKENDS)
    ap.add_argument("--only", metavar="NAMES", help="comma-separated subset of the models")
    ap.add_argument("--modes", default="public", help="comma-separated: " + ", ".join(MODES))
    ap.add_argument("--gas", action="store_true", help="also measure fulfill gas on Anvil")
    ap.add_argument("--one", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    modes = args.modes.split(",")
    if args.one:  # child process: one model and mode, JSON on stdout
        row = bench_one(args.one, modes[0], args.proofs, args.samples, args.backend, args.gas)
        print(json.dumps(row))
        return 0
    rows = []
    names = args.only.split(",") if args.only else list(MODELS)
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {sorted(MODELS)}")
    for name, mode in [(n, m) for n in names for m in modes]:
        print(f"benchmarking {name} ({mode})...", file=sys.stderr, flush=True)
        cmd = [
            sys.executable, __file__, "--one", name, "--modes", mode,
            "--proofs", str(args.proofs), "--samples", str(args.samples),
            *(["--gas"] if args.gas else []),
        ]  # fmt: skip
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
