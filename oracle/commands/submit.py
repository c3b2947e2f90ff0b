"""`zkoracle submit DIR --rpc URL --hub ADDRESS --request-id N (--input INPUT.json |
--proof proof.json --public public.json) [--keystore FILE]`: answer a request yourself.

For a self-proving user: the proof is made on this machine (with --input: here and now;
with --proof/--public: earlier, by `zkoracle prove --binding B`) and posted to the hub's
`fulfill` from your own account. The statement's binding names the submitter, so the
proof must be made for your address: the command checks it before sending and prints the
binding to prove for when it does not match.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import circuits
from oracle import chain as chains
from oracle.accounts import load_keystore, signer_from_env
from oracle.errors import OracleError
from oracle.hub import Hub, ModelArtifacts


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "submit",
        help="post your own proof for a request to the hub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="model directory with keys (`zkoracle setup`)")
    p.add_argument("--rpc", required=True, metavar="URL", help="JSON-RPC endpoint")
    p.add_argument("--hub", required=True, metavar="ADDRESS", help="the ZkOracle hub")
    p.add_argument("--request-id", required=True, type=int, metavar="N", help="the request")
    p.add_argument("--input", metavar="INPUT.json", help="prove these inputs now")
    p.add_argument("--proof", metavar="FILE", help="proof.json made by `zkoracle prove`")
    p.add_argument("--public", metavar="FILE", help="public.json made with it")
    p.add_argument("--salts", metavar="SALTS.json", help="salts of the input commitment")
    p.add_argument("--keystore", metavar="FILE", type=Path, help="sign with this keystore")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.input) == bool(args.proof and args.public):
        raise OracleError("give either --input, or both --proof and --public")
    signer = load_keystore(args.keystore) if args.keystore else signer_from_env()
    with chains.connect(args.rpc, signer=signer) as chain:
        hub = Hub(chain, args.hub)
        binding = hub.request_binding(args.request_id, chain.sender)
        model = circuits.load_model_dir(args.dir)
        if args.input:
            sample = circuits.read_inputs(args.dir, args.input)
            needed = [k for k in model.compiled.salt_names if k != "weights"]
            salts = circuits.load_salts(args.salts, needed) if args.salts else None
            result = circuits.prove(args.dir, sample, binding=binding, salts=salts)
            proof, public = result.proof, result.public
        else:
            proof, public = circuits.read_proof_files(args.proof, args.public)
        if public[0] != binding:
            raise OracleError(
                f"the proof is for binding {public[0]}, but request {args.request_id} answered "
                f"by {chain.sender} needs binding {binding}: prove again with --binding {binding}"
            )
        outputs = ModelArtifacts.load(args.dir).quantized_outputs(public)
        done = hub.fulfill(args.request_id, outputs, proof)
    print(f"fulfilled request {args.request_id} in {done.tx.tx_hash} (gas {done.tx.gas_used})")
    print(f"outputs {outputs}")
    if done.callback_failure is not None:
        print(f"note: the consumer's callback failed: {done.callback_failure['reason'].hex()}")
    return 0
