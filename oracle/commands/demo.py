"""`zkoracle demo [--chain embedded|anvil|RPC_URL] [--workdir DIR]`: the whole product once."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="end-to-end demo: models, circuits, contracts, daemon, verified outputs",
        description=(
            "Fit a risk-score and a trading-signal model on generated data, compile and set "
            "them up, deploy the hub, verifiers and two example consumers, run the oracle "
            "daemon, and show verified outputs next to the float models'."
        ),
    )
    p.add_argument(
        "--chain",
        default="embedded",
        help="embedded (in-process py-evm, default), anvil (started here), or an RPC URL",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where models, artifacts, the daemon config and its store go (default: a temp dir)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from oracle.demo.run import DEMO_STEPS, format_report, run_demo
    from oracle.progress import Progress

    def say(message: str) -> None:
        print(message, flush=True)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="zkoracle-demo-"))
    t0 = time.perf_counter()
    # The bar goes on stderr below the demo's own lines, on a terminal only.
    with Progress("demo", total=DEMO_STEPS, stream=sys.stderr) as bar:
        shown = (lambda m: bar.write(m, sys.stdout)) if bar.tty else say
        report = run_demo(args.chain, work, shown, step=lambda m: bar.step(m) if bar.tty else None)
    say("")
    say(format_report(report))
    say(f"\ndemo finished in {time.perf_counter() - t0:.1f} s; artifacts in {work}")
    say(f"next: `zkoracle info {work / 'risk-score'}` shows the circuit, node by node;")
    say(
        f"      {work / 'oracle.toml'} is the daemon's config: against a lasting chain, "
        "deploy with `zkoracle deploy DIR --rpc URL` and run `zkoracle serve --config FILE`"
    )
    return 0 if report.outcomes else 1
