"""`zkoracle audit --rpc URL --hub ADDRESS --model-id ID --dir DIR [MODEL.onnx]
[--weights FILE]`: check a registered model against its published artifacts.

DIR holds the model's published manifest.json and verification_key.json (and model.onnx,
used when MODEL.onnx is not given). The command recompiles the ONNX model with the
manifest's settings and compares the ONNX, R1CS and manifest hashes with the
registration, the verifier's deployed code with the one rendered from the verification
key, and the registered layout with the manifest's; for private weights, --weights (the
owner's weights-opening.json) is checked against the registered commitment. It prints one
line per check and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse

from oracle import chain as chains
from oracle.audit import audit, format_report
from oracle.commands import bytes32_arg
from oracle.errors import OracleError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "audit",
        help="check a registered model against its ONNX file, manifest and keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("onnx", nargs="?", metavar="MODEL.onnx", help="default: DIR/model.onnx")
    p.add_argument("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint")
    p.add_argument("--hub", required=True, metavar="ADDRESS", help="the ZkOracle hub")
    p.add_argument(
        "--model-id",
        required=True,
        type=bytes32_arg("a model id"),
        metavar="ID",
        help="0x + 64 hex",
    )
    p.add_argument("--dir", required=True, metavar="DIR", help="the published model directory")
    p.add_argument("--weights", metavar="FILE", help="weights-opening.json (private weights)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with chains.connect(args.rpc, signer=None) as chain:
        checks = audit(chain, args.hub, args.model_id, args.dir, args.onnx, args.weights)
    if not checks:
        raise OracleError("nothing to check")
    print(format_report(checks))
    failed = [c.name for c in checks if not c.ok]
    print(
        f"{len(checks) - len(failed)} of {len(checks)} checks pass"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0
