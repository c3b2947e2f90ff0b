"""`zkoracle compile MODEL.onnx -o DIR [--calibration FILE]`: ONNX model -> circuit artifacts."""

from __future__ import annotations

import argparse
import sys

import circuits
from oracle.progress import Progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compile", help="compile an ONNX model to an R1CS circuit", description=__doc__
    )
    p.add_argument("model", metavar="MODEL.onnx", help="ONNX model (opset >= 11, static shapes)")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="artifact directory to write")
    p.add_argument(
        "--calibration",
        metavar="FILE",
        help="JSON sample inputs (ezkl input_data or {name: values}) to pick scales and widths",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The pipeline says: [calibrating,] compiling, measuring the error; then it is done.
    steps = 3 if args.calibration else 2
    with Progress("compile", total=steps) as bar:
        m = circuits.compile_model(
            args.model, args.out, calibration=args.calibration, progress=bar.follow
        )
        bar.step()
    q, err = m.config, m.error
    print(
        f"compiled {args.model}: {m.n_constraints} constraints, {m.n_wires} wires, "
        f"{m.n_public} public inputs"
    )
    print(f"scales: input 2^-{q.input_scale}, weights 2^-{q.weight_scale}, act 2^-{q.act_scale}")
    print(
        f"max |error| vs onnxruntime: {err.get('max_abs_err', 0.0):.3g} "
        f"over {err.get('samples', 0)} samples ({err.get('inputs', '')})"
    )
    if err.get("overflows"):
        print(
            f"warning: {err['overflows']} sample(s) overflowed: {err['first_overflow']}",
            file=sys.stderr,
        )
    print(f"wrote {args.out}/manifest.json, {args.out}/circuit.r1cs, {args.out}/model.onnx")
    print(f"next: zkoracle setup {args.out}")
    return 0
