"""Deploy a compiled, set-up model: ``zkoracle deploy`` for scripts.

    python scripts/deploy.py DIR --rpc http://127.0.0.1:8545 [--hub ADDRESS] [--out FILE]

Takes exactly the arguments of ``zkoracle deploy`` (see ``--help``); from Python, call
`oracle.hub.deploy_model` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from oracle.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(["deploy", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
