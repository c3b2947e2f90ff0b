"""Subcommands of the `zkoracle` CLI: one module each, each exposing `register(subparsers)`.

A module's `register` adds its subparser and sets ``func`` to a function taking the parsed
arguments and returning the exit code.
"""
