"""`zkoracle setup DIR [--backend native|snarkjs] [--zkey CEREMONY.zkey]`: Groth16 keys."""

from __future__ import annotations

import argparse

from circuits import pipeline


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup", help="make the Groth16 keys of a compiled model", description=__doc__
    )
    p.add_argument("dir", metavar="DIR", help="artifact directory written by `zkoracle compile`")
    p.add_argument(
        "--backend",
        choices=pipeline.BACKENDS,
        default=pipeline.DEFAULT_BACKEND,
        help="Groth16 prover (default: %(default)s)",
    )
    p.add_argument(
        "--zkey",
        metavar="CEREMONY.zkey",
        help="adopt a snarkjs ceremony key made for DIR/circuit.r1cs",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = pipeline.setup(
        args.dir, backend=args.backend, zkey=args.zkey, progress=pipeline.stderr_progress
    )
    print(
        f"{info.backend} keys for {info.n_constraints} constraints, {info.n_public} public inputs"
    )
    print(f"kind: {info.kind}")
    print(f"wrote {info.proving_key}, {info.verification_key}, {info.key_dir}/setup.json")
    print(f"next: zkoracle prove {args.dir} --input INPUT.json")
    return 0
