"""Subcommands of the `zkoracle` CLI: one module each, each exposing `register(subparsers)`.

A module's `register` adds its subparser and sets ``func`` to a function taking the parsed
arguments and returning the exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bytes32_arg(what: str) -> Callable[[str], bytes]:
    """An argparse ``type`` for 32 bytes written in hex (``0x`` optional); the error names
    `what` ("a model id", "a salt") and the text given."""

    def parse(text: str) -> bytes:
        try:
            value = bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            value = b""
        if len(value) != 32:
            raise argparse.ArgumentTypeError(
                f"{what} is 32 bytes in hex (0x + 64 digits), got {text!r}"
            )
        return value

    return parse
