"""`zkoracle init [--rpc URL] [--chain-id N] [--hub ADDRESS] [--model ID:DIR ...]
[--deployment deployment.json] [-o oracle.toml]`: write the daemon's configuration.

The file is the annotated example configuration (every key, its default, what it does)
filled in for one chain, hub and set of models. Without --hub and --model, the hub and
models come from the deployment file `zkoracle deploy` wrote; without --chain-id, the
node is asked. The result is validated as `zkoracle serve` would before it is written.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

from oracle.errors import OracleError


def _model(text: str) -> tuple[bytes, str]:
    model_id, sep, folder = text.partition(":")
    try:
        raw = bytes.fromhex(model_id.removeprefix("0x"))
    except ValueError:
        raw = b""
    if not sep or len(raw) != 32 or not folder:
        raise argparse.ArgumentTypeError(f"expected ID:DIR (ID = 0x + 64 hex digits), got {text!r}")
    return raw, folder


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "init",
        help="write an annotated daemon configuration for a chain and hub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rpc", default="http://127.0.0.1:8545", metavar="URL",
                   help="the node the daemon watches (default: %(default)s)")  # fmt: skip
    p.add_argument("--chain-id", type=int, metavar="N", help="default: asked of the node")
    p.add_argument("--hub", metavar="ADDRESS", help="default: the deployment file's hub")
    p.add_argument(
        "--model", type=_model, action="append", default=[], metavar="ID:DIR",
        help="a registered model id and its artifact directory (repeatable); "
        "default: every model of the deployment file",
    )  # fmt: skip
    p.add_argument("--deployment", type=Path, default=Path("deployment.json"), metavar="FILE",
                   help="written by `zkoracle deploy` (default: %(default)s)")  # fmt: skip
    p.add_argument("--confirmations", type=int, default=2, metavar="N",
                   help="blocks a request must be buried under (default: %(default)s; "
                   "0 for a node that mines only on transactions, as Anvil does)")  # fmt: skip
    p.add_argument("--key-env", default="ZKORACLE_PRIVATE_KEY", metavar="NAME",
                   help="environment variable holding the key (default: %(default)s)")  # fmt: skip
    p.add_argument("--metrics-port", type=int, default=9464, metavar="PORT",
                   help="status page and metrics on 127.0.0.1 (default: %(default)s)")  # fmt: skip
    p.add_argument("-o", "--out", type=Path, default=Path("oracle.toml"), metavar="FILE")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def _from_deployment(
    args: argparse.Namespace,
) -> tuple[str | None, int | None, list[tuple[bytes, str]]]:
    if not args.deployment.exists() or (args.hub and args.model):
        return None, None, []
    from oracle.hub.deploy import read_deployment

    doc = read_deployment(args.deployment)
    models = [
        (bytes.fromhex(m["model_id"].removeprefix("0x")), m["model_dir"]) for m in doc["models"]
    ]
    return doc["hub"], doc["chain_id"], models


def _chain_id(url: str) -> int:
    from oracle import chain as chains

    with chains.rpc(url, signer=None) as chain:
        return chain.chain_id


def run(args: argparse.Namespace) -> int:
    from oracle.daemon.config import parse_config
    from oracle.daemon.example import ModelEntry, fill_example

    if args.out.exists() and not args.force:
        raise OracleError(f"{args.out} exists: pass --force to overwrite it")
    hub, chain_id, models = _from_deployment(args)
    hub, models = args.hub or hub, args.model or models
    if hub is None or not models:
        raise OracleError(
            f"no hub or model: pass --hub and --model ID:DIR, or run `zkoracle deploy` "
            f"first (it writes {args.deployment})"
        )
    chain_id = args.chain_id or chain_id or _chain_id(args.rpc)
    base = args.out.resolve().parent
    entries = [
        ModelEntry(Path(d).name or f"model{i}", mid, os.path.relpath(Path(d).resolve(), base))
        for i, (mid, d) in enumerate(models)
    ]
    values = {
        ("chain", "url"): args.rpc, ("chain", "chain_id"): chain_id,
        ("chain", "confirmations"): args.confirmations, ("hub", "address"): hub,
        ("account", "key_env"): args.key_env, ("metrics", "port"): args.metrics_port,
    }  # fmt: skip
    text = fill_example(values, entries)
    config = parse_config(tomllib.loads(text), args.out)  # refuse what `serve` would refuse
    args.out.write_text(text)
    print(f"wrote {args.out}: chain {chain_id} at {args.rpc}, hub {config.hub}")
    for m in config.models:
        print(f"  model {m.name}: 0x{m.model_id.hex()} ({m.artifacts})")
    print(f"next: export {args.key_env}=<the operator's key>; zkoracle serve --config {args.out}")
    print(f"      status page: http://127.0.0.1:{args.metrics_port}/")
    return 0
