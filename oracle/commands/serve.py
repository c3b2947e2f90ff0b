"""`zkoracle serve [--config oracle.toml]`: run the oracle daemon until SIGTERM or Ctrl-C.

The daemon watches the hub for requests of the configured models, proves them, posts the
proofs and pushes the configured feeds. Logs are JSON lines on stderr; metrics and
/health are served on 127.0.0.1 when ``[metrics].port`` is set. On SIGTERM, proofs in
flight get a grace period to finish; the rest resume at the next start.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from oracle.daemon.config import load_config
from oracle.daemon.logs import setup_logging
from oracle.daemon.service import Service


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the oracle daemon", description=__doc__)
    p.add_argument(
        "-c", "--config", default="oracle.toml", metavar="FILE", help="daemon configuration (TOML)"
    )
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long proofs in flight may finish after SIGTERM (default 30)",
    )
    p.add_argument("--once", action="store_true", help="run one iteration, then stop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The handlers come first: a SIGTERM while the service is still being set up (keys
    # loading, the chain connecting) must end it cleanly too, not kill the process.
    services: list[Service] = []
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        print(f"zkoracle serve: {signal.Signals(signum).name}: finishing", file=sys.stderr)
        stopping.append(signum)
        for service in services:
            service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    setup_logging(args.log_level)
    config = load_config(args.config)
    service = Service(config, shutdown_grace=args.grace)
    services.append(service)
    if stopping:
        service.stop()  # asked to stop while starting: run closes what it opened
    service.run(max_iterations=1 if args.once else None)
    print(f"zkoracle serve: stopped; state kept in {config.store_path}", file=sys.stderr)
    print(f"next: zkoracle serve --config {args.config} (resumes here)", file=sys.stderr)
    return 0
