"""`zkoracle`: a table of thin subcommands over the `circuits` façade and the `oracle` package."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from circuits import CircuitError
from oracle.errors import OracleError

#: Subcommand modules under oracle.commands, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "compile",
    "setup",
    "prove",
    "prove_batch",
    "verify",
    "info",
    "serve",
    "deploy",
    "submit",
    "audit",
    "export_verifier",
    "card",
    "init",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zkoracle",
        description="Prove ONNX model inferences with Groth16 and verify them on-chain.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"oracle.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Compiling and solving allocate millions of objects; freezing what the imports built
    # keeps the collector's full passes from walking it again and again (a third of the
    # build time of a large circuit).
    gc.freeze()
    try:
        code: int = args.func(args)
    except (CircuitError, OracleError) as e:
        print(f"zkoracle {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zkoracle {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
