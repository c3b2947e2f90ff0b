"""`zkoracle`: a table of thin subcommands over the `circuits` façade and the `oracle` package."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from circuits import CircuitError
from oracle.errors import OracleError

#: Subcommands in the order `--help` lists them, with the one-line help `--help` shows. The
#: module of a command is oracle.commands.<name with "-" as "_">; only the module of the
#: command being run is imported: the others would pull in the compiler, web3 or the daemon
#: for nothing.
COMMANDS: dict[str, str] = {
    "demo": "end-to-end demo: models, circuits, contracts, daemon, verified outputs",
    "compile": "compile an ONNX model to an R1CS circuit",
    "setup": "make the Groth16 keys of a compiled model",
    "prove": "prove an inference of a compiled model",
    "prove-batch": "prove many rows of one model (resumable)",
    "verify": "verify a proof of a compiled model",
    "info": "describe a compiled model directory",
    "serve": "run the oracle daemon",
    "deploy": "deploy the hub, a model's verifier, and register the model",
    "submit": "post your own proof for a request to the hub",
    "audit": "check a registered model against its ONNX file, manifest and keys",
    "export-verifier": "write the Solidity verifier of a model's verification key",
    "card": "write a model card (HTML) for auditors and voters",
    "init": "write an annotated daemon configuration for a chain and hub",
}


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv (the first word that is one), if any."""
    for word in argv:
        if word in COMMANDS:
            return word
        if not word.startswith("-"):
            return None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with `argv`, only the command it names is imported and fully registered
    (`None`: every command, as the tests of the parsers want)."""
    parser = argparse.ArgumentParser(
        prog="zkoracle",
        description="Prove ONNX model inferences with Groth16 and verify them on-chain.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = None if argv is None else _command_of(argv)
    for name, help_text in COMMANDS.items():
        if argv is None or name == wanted:
            module = importlib.import_module(f"oracle.commands.{name.replace('-', '_')}")
            module.register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
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
