"""`zkoracle deploy DIR [--rpc URL | --chain embedded|anvil] [--hub ADDRESS] [--keystore FILE]
[--name NAME | --salt 0xSALT] [--out deployment.json]`: put a set-up model on a chain.

Deploys the ZkOracle hub (unless --hub names one or the deployment file records one for
this chain), the model's verifier, and registers the model. The hub derives the model id
from the signing account and a salt (by default one derived from the model's manifest and
keys; `--name` or `--salt` choose another), so the id is yours alone. The deployment file gathers
the models of one hub; it is never overwritten with a deployment on another chain or hub.

`--chain embedded` and `--chain anvil` run a chain that ends with the command: use them to
try the flow; for a lasting deployment start a node (hardhat-free-devnet/start-anvil.sh)
and pass --rpc.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oracle import chain as chains
from oracle.accounts import load_keystore, signer_from_env
from oracle.commands import bytes32_arg
from oracle.hub import Deployment, deploy_model
from oracle.hub.deploy import DEFAULT_FILE, hub_for, write_deployment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy the hub, a model's verifier, and register the model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="model directory with keys (`zkoracle setup`)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--rpc", metavar="URL", help="JSON-RPC endpoint (http:// or https://)")
    where.add_argument(
        "--chain",
        choices=("embedded", "anvil"),
        help="a chain that lives as long as this command (default: embedded)",
    )
    p.add_argument("--hub", metavar="ADDRESS", help="use this deployed hub")
    p.add_argument(
        "--keystore",
        metavar="FILE",
        type=Path,
        help="sign with this keystore (password from ZKORACLE_KEYSTORE_PASSWORD or a prompt); "
        "default: ZKORACLE_PRIVATE_KEY, else the node's dev accounts",
    )
    salt = p.add_mutually_exclusive_group()
    salt.add_argument("--name", help="register with salt keccak256(NAME) instead of the default")
    salt.add_argument(
        "--salt",
        type=bytes32_arg("a salt"),
        metavar="0xSALT",
        help="register with this 32-byte salt",
    )
    p.add_argument(
        "-o",
        "--out",
        default=DEFAULT_FILE,
        type=Path,
        metavar="FILE",
        help="deployment file to write or add to (default: %(default)s)",
    )
    p.set_defaults(func=run)


def _progress(message: str) -> None:
    print(f"zkoracle: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    target = args.rpc or args.chain or "embedded"
    signer = load_keystore(args.keystore) if args.keystore else signer_from_env()
    _progress(f"connecting to {target}")
    with chains.connect(target, signer=signer) as chain:
        hub = hub_for(args.out, chain, args.hub)
        if hub and not args.hub:
            _progress(f"using the hub recorded in {args.out}: {hub}")
        dep = deploy_model(chain, args.dir, hub, name=args.name, salt=args.salt, progress=_progress)
        write_deployment(args.out, dep)
        _report(dep, args)
        if chain.kind != "rpc":
            print(
                f"note: this {chain.kind} chain stops with the command; for a lasting deployment "
                "run hardhat-free-devnet/start-anvil.sh and pass --rpc http://127.0.0.1:8545"
            )
    return 0


def _report(dep: Deployment, args: argparse.Namespace) -> None:
    hub_note = "deployed" if dep.hub_tx else "existing"
    print(f"chain {dep.chain_id} ({dep.chain})")
    print(f"hub       {dep.hub} ({hub_note})")
    print(f"verifier  {dep.verifier}")
    print(f"model id  0x{dep.model_id.hex()} (owner {dep.owner})")
    for what, tx in (("hub", dep.hub_tx), *dep.transactions.items()):
        if tx is not None:
            print(f"  {what:<9} {tx.tx_hash}  gas {tx.gas_used}")
    if not dep.transactions:
        print("  the model was registered already: nothing sent")
    print(f"wrote {args.out}")
    print("next: put the hub and the model in the daemon's configuration (oracle.toml):")
    print(f'  [hub]\n  address = "{dep.hub}"')
    print(f'  [[models]]\n  id = "0x{dep.model_id.hex()}"\n  artifacts = "{dep.model_dir}"')
    print("then run: zkoracle serve --config oracle.toml")
