"""Benchmark the oracle daemon on Anvil and print a table.

    python scripts/bench_daemon.py [--json PATH] [--requests 20] [--burst 50] [--bursts 3]
                                   [--workers 1] [--poll-interval 0.1] [--max-batch 16]
                                   [--engine local|ray] [--ray-nodes 1]
    python scripts/bench_daemon.py --compare-batching --burst 100

``--compare-batching`` runs one burst with ``[submitter] max_batch = 1`` and one with
--max-batch, each on a fresh Anvil, and prints wall time, requests per second and the
daemon's gas per request (its transactions' gas used / requests).

Anvil (automine: every transaction is mined at once, no reorganisations, so the daemon
runs with 0 confirmations), the ZkOracle hub and the 8->16->1 MLP of
`circuits/onnx/examples.py` deployed through `oracle.hub`, and ``zkoracle serve`` as a
subprocess, as an operator runs it. One warm-up request is not counted.

* latency: --requests requests one after the other, each sent at a random phase of the
  daemon's poll; from sending the request to its fulfillment mined (the hub verified the
  proof and stored the outputs). Target: median under 1.5 s.
* burst: --burst requests sent at once; throughput is requests / wall time (first send to
  last fulfillment mined); daemon overhead is (wall - proving seconds / workers) / wall,
  the proving seconds summed by the daemon itself (/metrics). Target: under 10 %. Also
  the CPU time of the daemon's own process (its loop, not the provers) per request. The
  table shows the burst with the median wall time of --bursts bursts (all in the JSON).

With ``--engine ray`` the daemon proves on prover actors of a Ray cluster that this script
starts on the machine (``--ray-nodes`` nodes of one CPU each, ``--workers`` actors); the
table adds the time the actors took to receive and load the model. Ray binds every
interface, so run it in a loopback-only network namespace:
``unshare -n sh -c 'ip link set lo up && python scripts/bench_daemon.py --engine ray'``.

The machine's cores are shared by the provers, the daemon's loop, Anvil and this client:
on two cores, one worker leaves the others a core; two workers make all of them wait.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from daemon_stack import (
    Client,
    Serving,
    build_model,
    cpu_seconds,
    daemon_gas,
    load_seconds,
    proving_seconds,
    ray_cluster,
    serving,
)

from oracle import chain as chains

TARGET_MEDIAN_S = 1.5
TARGET_OVERHEAD = 0.10


def bench_latency(client: Client, n: int, poll: float) -> list[float]:
    latencies = []
    for _ in range(n):
        time.sleep(client.rng.uniform(0, poll))
        t0 = time.perf_counter()
        request_id = client.send()
        t1 = client.wait(lambda i=request_id: client.fulfilled(i), 60, 0.005)
        latencies.append(t1 - t0)
    return latencies


def bench_burst(daemon: Serving, n: int, workers: int) -> dict[str, float]:
    client, metrics = daemon.client, daemon.metrics
    since = int(client.w3.eth.block_number) + 1
    proving0, cpu0 = proving_seconds(metrics), cpu_seconds(daemon.pid)
    t0 = time.perf_counter()
    for _ in range(n):
        client.send()
    t1 = client.wait(lambda: client.fulfilled_count(since) >= n, 300, 0.02)
    cpu = cpu_seconds(daemon.pid) - cpu0
    time.sleep(0.5)  # the daemon records the last proving time before it submits
    proving = proving_seconds(metrics) - proving0
    wall = t1 - t0
    return {
        "wall_s": wall,
        "throughput_per_s": n / wall,
        "proving_s_sum": proving,
        "overhead": (wall - proving / workers) / wall,
        "daemon_cpu_ms_per_request": 1000 * cpu / n,
    }


def compare_batching(args: argparse.Namespace) -> list[dict[str, float]]:
    """One burst of --burst requests with ``max_batch = 1`` and with --max-batch, each on a
    fresh Anvil: wall time, requests per second and the daemon's gas per request."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="zkoracle-bench-batch-") as tmp:
        model_dir = build_model(Path(tmp))
        for max_batch in (1, args.max_batch):
            folder = Path(tmp) / f"batch-{max_batch}"
            folder.mkdir()
            run_args = argparse.Namespace(**{**vars(args), "max_batch": max_batch})
            with (
                chains.anvil(signer=None) as chain,
                serving(chain, folder, model_dir, run_args) as daemon,
            ):
                bench_latency(daemon.client, 1, args.poll_interval)  # warm-up
                since = int(chain.w3.eth.block_number) + 1
                burst = bench_burst(daemon, args.burst, args.workers)
                gas = daemon_gas(chain.w3, daemon.operator, since)
            rows.append({"max_batch": max_batch, **burst, "gas_per_request": gas / args.burst})
    return rows


def batching_table(rows: list[dict[str, float]], burst: int) -> str:
    lines = [f"burst of {burst} requests, mlp_8_16_1",
             f"{'max_batch':>9} {'wall s':>8} {'req/s':>7} {'gas/request':>12}"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{int(r['max_batch']):>9} {r['wall_s']:>8.2f} {r['throughput_per_s']:>7.1f} "
            f"{r['gas_per_request']:>12.0f}"
        )
    return "\n".join(lines)


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="zkoracle-bench-daemon-") as tmp,
        chains.anvil(signer=None) as chain,
    ):
        folder = Path(tmp)
        cluster = ray_cluster(args, folder)
        try:
            with serving(chain, folder, build_model(folder), args) as daemon:
                load_s = load_seconds(daemon.metrics) if cluster is not None else None
                bench_latency(daemon.client, 1, args.poll_interval)  # warm-up: keys into memory
                latencies = bench_latency(daemon.client, args.requests, args.poll_interval)
                bursts = [bench_burst(daemon, args.burst, args.workers) for _ in range(args.bursts)]
        finally:
            if cluster is not None:
                cluster.stop()
    return {
        "model": "mlp_8_16_1",
        "engine": args.engine,
        "ray_nodes": args.ray_nodes if args.engine == "ray" else 0,
        "model_to_nodes_s": load_s,
        "workers": args.workers,
        "poll_interval_s": args.poll_interval,
        "requests": args.requests,
        "latency_median_s": statistics.median(latencies),
        "latency_p90_s": statistics.quantiles(latencies, n=10)[-1],
        "latency_max_s": max(latencies),
        "latencies_s": latencies,
        "burst": args.burst,
        **{f"burst_{k}": v for k, v in _median_run(bursts).items()},
        "bursts": bursts,
        "target_latency_median_s": TARGET_MEDIAN_S,
        "target_overhead": TARGET_OVERHEAD,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        ("latency median", f"{r['latency_median_s']:.3f} s", f"< {TARGET_MEDIAN_S} s"),
        ("latency p90", f"{r['latency_p90_s']:.3f} s", ""),
        ("latency max", f"{r['latency_max_s']:.3f} s", ""),
        (f"burst of {r['burst']}: wall", f"{r['burst_wall_s']:.2f} s", ""),
        ("burst throughput", f"{r['burst_throughput_per_s']:.1f} req/s", ""),
        ("burst proving (sum)", f"{r['burst_proving_s_sum']:.2f} s", ""),
        ("daemon overhead", f"{100 * r['burst_overhead']:.1f} %", f"< {TARGET_OVERHEAD:.0%}"),
        ("daemon loop CPU", f"{r['burst_daemon_cpu_ms_per_request']:.1f} ms/req", ""),
    ]  # fmt: skip
    if r["engine"] == "ray":
        rows.append(("model to the nodes", f"{r['model_to_nodes_s']:.2f} s", ""))
    engine = "local" if r["engine"] == "local" else f"ray, {r['ray_nodes']} node(s)"
    head = f"mlp_8_16_1, {engine}, {r['workers']} prover(s), poll {r['poll_interval_s']} s"
    lines = [head, f"{'measure':<24}{'value':>14}  target"]
    lines += [f"{name:<24}{value:>14}  {target}" for name, value, target in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--requests", type=int, default=20, help="latency samples (default 20)")
    ap.add_argument("--burst", type=int, default=50, help="requests in a burst (default 50)")
    ap.add_argument("--bursts", type=int, default=3, help="bursts to run (default 3)")
    ap.add_argument("--workers", type=int, default=1, help="prover processes (default 1)")
    ap.add_argument("--poll-interval", type=float, default=0.1, help="seconds (default 0.1)")
    ap.add_argument("--engine", choices=("local", "ray"), default="local")
    ap.add_argument("--ray-nodes", type=int, default=1, help="Ray nodes to start (default 1)")
    ap.add_argument("--max-batch", type=int, default=16, help="[submitter] max_batch (16)")
    ap.add_argument(
        "--max-batch-wait", type=float, default=0.0, help="[submitter] max_batch_wait (0 s)"
    )
    ap.add_argument(
        "--compare-batching",
        action="store_true",
        help="only a burst (--burst, e.g. 100) with max_batch 1 and --max-batch: gas and req/s",
    )
    args = ap.parse_args(argv)
    if args.compare_batching:
        rows = compare_batching(args)
        print(batching_table(rows, args.burst))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        return 0
    result = run(args)
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
