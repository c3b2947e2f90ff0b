"""`zkoracle compile MODEL.onnx -o DIR [--calibration FILE] [--weights public|private]
[--inputs public|private] [--outputs public|private] [--claim "OUTPUT[i] < T"]`:
ONNX model -> circuit artifacts.

Private weights become witness values behind a salted Poseidon commitment (the opening,
weights-opening.json, stays with the owner); private inputs or outputs are replaced in the
statement by a salted commitment; a claim (OUTPUT[INDEX] OP NUMBER, OP one of < <= > >=)
puts its threshold and boolean result in the statement instead of the outputs."""

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
    for part in ("weights", "inputs", "outputs"):
        p.add_argument(
            f"--{part}",
            choices=("public", "private"),
            default="public",
            help=f"{part} in the statement (public) or behind a salted commitment (private)",
        )
    p.add_argument(
        "--claim",
        metavar='"OUTPUT[i] OP T"',
        help='prove a threshold claim, e.g. "probabilities[1] < 0.2" (outputs stay private)',
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    claim = circuits.Claim.parse(args.claim) if args.claim else None
    vis = circuits.Visibility(args.weights, args.inputs, args.outputs, claim)
    # The pipeline says: [calibrating,] compiling, measuring the error; then it is done.
    steps = 3 if args.calibration else 2
    with Progress("compile", total=steps) as bar:
        m = circuits.compile_model(
            args.model,
            args.out,
            calibration=args.calibration,
            progress=bar.follow,
            visibility=vis,
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
    if not vis.is_public:
        print(f"statement: {vis.to_json()}")
    if m.weights_commitment is not None:
        w = m.commitments["weights"]
        print(
            f"weights commitment {m.weights_commitment:#x} over {w['count']} weights; "
            f"keep {args.out}/weights-opening.json secret (it opens the commitment)"
        )
    print(f"next: zkoracle setup {args.out}")
    return 0
