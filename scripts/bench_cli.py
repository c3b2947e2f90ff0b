"""Start-up of the `zkoracle` commands a user runs: cold processes, median of 5.

For each reference model (the 8->16->1 MLP, the 32->64->32->1 MLP, the 8x8 CNN of
`circuits.onnx.examples`) the model is compiled and set up once with the native backend,
then ``zkoracle prove``, ``zkoracle verify`` and ``zkoracle --help`` each run 5 times as
fresh processes; the table shows the median wall time and the targets.

Usage::

    python scripts/bench_cli.py [--runs 5] [--json bench-cli.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx

import circuits
from circuits.onnx import examples

MODELS: dict[str, tuple[Callable[[], onnx.ModelProto], float]] = {
    "mlp_8_16_1": (lambda: examples.mlp((8, 16, 1)), 0.3),
    "mlp_32_64_32_1": (lambda: examples.mlp((32, 64, 32, 1)), 0.5),
    "cnn_8x8": (lambda: examples.cnn(), 0.5),
}
VERIFY_TARGET = 0.3
HELP_TARGET = 0.2


def _median_s(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _prepare(name: str, root: Path) -> tuple[Path, Path]:
    model, _ = MODELS[name]
    onnx_path = examples.save(model(), root / f"{name}.onnx")
    out = root / name
    manifest = circuits.compile_model(onnx_path, out)
    circuits.setup(out, progress=lambda _m: None)
    inputs = root / f"{name}-input.json"
    inputs.write_text(json.dumps({"input_data": [[0.25] * s.size for s in manifest.inputs]}))
    return out, inputs


def measure(runs: int) -> list[dict[str, Any]]:
    cli = [sys.executable, "-m", "oracle.cli"]
    records = []
    with tempfile.TemporaryDirectory(prefix="zkoracle-bench-cli-") as tmp:
        root = Path(tmp)
        for name in MODELS:
            out, inputs = _prepare(name, root)
            prove = [*cli, "prove", str(out), "--input", str(inputs)]
            subprocess.run(prove, check=True, capture_output=True)  # stores the compiled model
            records.append(
                {
                    "model": name,
                    "prove_s": round(_median_s(prove, runs), 3),
                    "verify_s": round(_median_s([*cli, "verify", str(out)], runs), 3),
                }
            )
        help_s = round(_median_s([*cli, "--help"], runs), 3)
        # The interpreter alone, for reading the others on a loaded machine.
        python_s = round(_median_s([sys.executable, "-c", "pass"], runs), 3)
    for r in records:
        r["help_s"], r["python_s"] = help_s, python_s
    return records


def report(records: list[dict[str, Any]]) -> list[str]:
    lines = [f"{'model':16} {'prove_s':>8} {'verify_s':>8} {'help_s':>7} {'python_s':>8}"]
    for r in records:
        lines.append(
            f"{r['model']:16} {r['prove_s']:8.3f} {r['verify_s']:8.3f} {r['help_s']:7.3f}"
            f" {r['python_s']:8.3f}"
        )
    for r in records:
        target = MODELS[r["model"]][1]
        for col, bound in (("prove_s", target), ("verify_s", VERIFY_TARGET)):
            ok = "ok  " if r[col] <= bound else "MISS"
            lines.append(f"{ok} {r['model']}: {col} {r[col]:.3f} <= {bound}")
    ok = "ok  " if records[0]["help_s"] <= HELP_TARGET else "MISS"
    lines.append(f"{ok} zkoracle --help {records[0]['help_s']:.3f} <= {HELP_TARGET}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    records = measure(args.runs)
    print("\n".join(report(records)))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
