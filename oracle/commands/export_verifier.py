"""`zkoracle export-verifier DIR -o Verifier.sol [--name CONTRACT]`: the model's Solidity
verifier, rendered from DIR's verification_key.json with the manifest hashes in its header
and compiled once to check it and report its code size."""

from __future__ import annotations

import argparse
from pathlib import Path

from oracle.hub import VERIFIER_NAME, ModelArtifacts, compile_model_verifier

#: EIP-170: the most code a contract may deploy.
MAX_CODE_SIZE = 24576


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export-verifier",
        help="write the Solidity verifier of a model's verification key",
        description=__doc__,
    )
    p.add_argument("dir", metavar="DIR", help="model directory with keys (`zkoracle setup`)")
    p.add_argument(
        "-o", "--out", required=True, type=Path, metavar="FILE.sol", help="file to write"
    )
    p.add_argument(
        "--name",
        default=VERIFIER_NAME,
        metavar="CONTRACT",
        help="contract name (default: %(default)s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    art = ModelArtifacts.load(args.dir)
    source, compiled = compile_model_verifier(art, args.name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(source)
    print(
        f"{compiled.name}: {art.layout.n_public} public inputs, "
        f"{compiled.deployed_size} bytes of code (EIP-170 limit {MAX_CODE_SIZE}), "
        f"{len(compiled.bytecode)} bytes of creation code"
    )
    print(f"model {art.manifest.source}, manifest sha256 {art.manifest_hash.hex()}")
    print(f"wrote {args.out}")
    print(
        f"next: zkoracle deploy {args.dir} --rpc URL "
        "(deploys this verifier and registers the model on the hub)"
    )
    return 0
