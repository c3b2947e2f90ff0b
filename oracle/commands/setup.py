"""`zkoracle setup DIR [--backend native|snarkjs] [--zkey CEREMONY.zkey]`: Groth16 keys."""

from __future__ import annotations

import argparse

import circuits
from oracle.progress import Progress

#: Seconds of setup per constraint on the 2-core development machine, for the progress
#: bar's estimate of the time left (README: native 2.8 s at 2^16 and 43 s at 2^20, groth16py
#: 5.1 s at 2^16, snarkjs with its phase 2 from 2^14 to 2^18). One entry per backend.
SECONDS_PER_CONSTRAINT = {"native": 4.2e-5, "groth16py": 7.8e-5, "snarkjs": 2e-3}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup", help="make the Groth16 keys of a compiled model", description=__doc__
    )
    p.add_argument("dir", metavar="DIR", help="artifact directory written by `zkoracle compile`")
    p.add_argument(
        "--backend",
        choices=circuits.BACKENDS,
        default=circuits.DEFAULT_BACKEND,
        help="Groth16 prover (default: %(default)s)",
    )
    p.add_argument(
        "--zkey",
        metavar="CEREMONY.zkey",
        help="adopt a snarkjs ceremony key made for DIR/circuit.r1cs",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    n = circuits.Manifest.load(args.dir).n_constraints
    expected = 0.3 + n * SECONDS_PER_CONSTRAINT[args.backend]
    with Progress("setup", total=100, unit="%") as bar, bar.estimate(expected):
        info = circuits.setup(args.dir, backend=args.backend, zkey=args.zkey, progress=bar.say)
    print(
        f"{info.backend} keys for {info.n_constraints} constraints, {info.n_public} public inputs"
    )
    print(f"kind: {info.kind}")
    print(f"wrote {info.proving_key}, {info.verification_key}, {info.key_dir}/setup.json")
    print(f"next: zkoracle prove {args.dir} --input INPUT.json")
    return 0
