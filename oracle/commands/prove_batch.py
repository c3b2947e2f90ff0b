"""`zkoracle prove-batch DIR --inputs ROWS.json|csv --out OUT/ [--ray ADDRESS]`: prove many
rows of one model, locally or on a Ray cluster; rerunning skips the rows already proven."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from oracle.errors import OracleError

if TYPE_CHECKING:
    from oracle.daemon.provers import ProverEngine


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prove-batch", help="prove many rows of one model (resumable)", description=__doc__
    )
    p.add_argument("dir", metavar="DIR", help="artifact directory with keys (`zkoracle setup`)")
    p.add_argument("--inputs", required=True, metavar="ROWS", help="rows: .json or .csv")
    p.add_argument("--out", required=True, metavar="OUT", help="folder for the proofs")
    p.add_argument("--ray", metavar="ADDRESS", help='prove on a Ray cluster ("auto", host:port)')
    p.add_argument(
        "--workers", type=int, default=0, help="worker processes or Ray actors (default: all CPUs)"
    )
    p.add_argument(
        "--binding", type=lambda s: int(s, 0), default=0, metavar="N",
        help="the statement's binding for every row (default 0)",
    )  # fmt: skip
    p.set_defaults(func=run)


def _pool(args: argparse.Namespace, model_dir: Path) -> ProverEngine:
    if args.ray is None:
        from oracle.daemon.provers import ProverPool

        workers = args.workers or os.cpu_count() or 1
        return ProverPool(workers, [model_dir], queued=workers)
    from oracle.cluster.bridge import RaySettings
    from oracle.cluster.pool import RayProverPool

    pool = RayProverPool(RaySettings(args.ray, args.workers, 1.0, 0, 600.0), [model_dir])
    deadline = time.monotonic() + 600
    while pool.state != "up":
        if (pool.state == "down" and pool.last_error) or time.monotonic() > deadline:
            pool.close()
            raise OracleError(f"cannot use the Ray cluster at {args.ray}: {pool.last_error}")
        time.sleep(0.1)
    return pool


def run(args: argparse.Namespace) -> int:
    from oracle.progress import Progress
    from oracle.prove_batch import LOST, BatchFolder, prove_rows, read_rows

    model_dir, out = Path(args.dir), Path(args.out)
    rows = read_rows(Path(args.inputs), model_dir)
    folder = BatchFolder(out, model_dir, Path(args.inputs))
    pool = _pool(args, model_dir)
    with Progress("prove-batch", total=len(rows), unit="row") as progress:

        def on_row(index: int, what: str) -> None:
            progress.step(f"row {index}: {what}", n=0 if what == LOST else 1)

        try:
            summary = prove_rows(folder, rows, pool, binding=args.binding, on_row=on_row)
        finally:
            pool.close()
    counts = f"{summary.proved} proved, {summary.skipped} already proven"
    print(f"{counts}, {len(summary.failed)} failed in {summary.seconds:.1f} s ({summary.engine})")
    for failure in summary.failed:
        print(f"row {failure['row']}: {failure['reason']}")
    print(f"wrote {out / 'rows'} and {out / 'summary.json'}")
    return 1 if summary.failed else 0
