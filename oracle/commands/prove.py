"""`zkoracle prove DIR --input INPUT.json [--binding N] [--salts SALTS.json]`: prove one
inference.

Writes proof.json and public.json (snarkjs layout) and output.json (dequantized outputs).
A model with private inputs or outputs needs a salt per commitment: given with --salts
(e.g. the salt of an input commitment already posted), or created and written to
salts.json next to the proof, for the party who must open the commitments."""

from __future__ import annotations

import argparse

import circuits
from oracle.errors import OracleError
from oracle.progress import Progress


def _binding(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r} (decimal or 0x-hex)") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("prove", help="prove an inference of a compiled model", description=__doc__)
    p.add_argument("dir", metavar="DIR", help="artifact directory with keys (`zkoracle setup`)")
    p.add_argument(
        "--input",
        required=True,
        metavar="INPUT.json",
        help='{"input_data": [[...]]} or {"<name>": [...]}',
    )
    p.add_argument(
        "--binding",
        type=_binding,
        default=0,
        metavar="N",
        help="the statement's binding field element",
    )
    p.add_argument(
        "--salts",
        metavar="SALTS.json",
        help="salts of the input/output commitments (default: fresh ones, saved to salts.json)",
    )
    p.add_argument(
        "-o", "--out", metavar="OUTDIR", help="where to write the JSON files (default: DIR)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.binding < circuits.R:
        raise OracleError(f"--binding {args.binding} is not a field element in [0, r)")
    with Progress("prove", total=3) as bar:
        bar.say(f"loading {args.dir} (its compiled model, checked against the manifest)")
        model = circuits.load_model_dir(args.dir)
        bar.step("proving")
        sample = circuits.read_inputs(args.dir, args.input)
        needed = [k for k in model.compiled.salt_names if k != "weights"]
        salts = circuits.load_salts(args.salts, needed) if args.salts else None
        result = circuits.prove(args.dir, sample, binding=args.binding, salts=salts)
        bar.step("writing the proof files")
        paths = circuits.write_proof_files(args.out or args.dir, result, model.manifest)
        bar.step()
    for name, value in result.outputs.items():
        print(f"{name} = {value.tolist()}")
    print(f"witness {result.witness_s:.3f} s, proof {result.prove_s:.3f} s")
    print(f"wrote {paths['proof']}, {paths['public']}, {paths['output']}")
    if "salts" in paths:
        print(f"wrote {paths['salts']}: keep it, it opens the statement's commitments")
    print(f"next: zkoracle verify {args.dir} --proof {paths['proof']} --public {paths['public']}")
    return 0
