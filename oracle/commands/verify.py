"""`zkoracle verify DIR [--proof FILE --public FILE]`: exit 0 if the proof is valid, 1 if not."""

from __future__ import annotations

import argparse
from pathlib import Path

import circuits


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("verify", help="verify a proof of a compiled model", description=__doc__)
    p.add_argument("dir", metavar="DIR", help="artifact directory with verification_key.json")
    p.add_argument("--proof", metavar="FILE", help="snarkjs proof.json (default: DIR/proof.json)")
    p.add_argument(
        "--public", metavar="FILE", help="snarkjs public.json (default: DIR/public.json)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    d = Path(args.dir)
    proof_path = Path(args.proof) if args.proof else d / "proof.json"
    public_path = Path(args.public) if args.public else d / "public.json"
    # Only the key directory, the JSON readers and the native verifier: no compiler, numpy
    # or onnx to import for a check that takes milliseconds.
    if circuits.verify_proof_files(d, public_path, proof_path):
        print(f"valid: {proof_path} proves {public_path} for {d}")
        return 0
    print(f"INVALID: {proof_path} does not prove {public_path} for {d}")
    return 1
