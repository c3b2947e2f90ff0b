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
`circuits/onnx/examples.py` deployed through `oracle.hub.deploy`, and ``zkoracle serve`` as a
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
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from circuits import pipeline
from circuits.onnx import examples
from oracle import chain as chains
from oracle.hub import deploy_model, hub_contracts, only_from

ROOT = Path(__file__).resolve().parents[1]
KEY_ENV = "ZKORACLE_BENCH_KEY"
ZERO = "0x" + "00" * 20
TARGET_MEDIAN_S = 1.5
TARGET_OVERHEAD = 0.10
_METRICS = re.compile(r"metrics on (http://127\.0\.0\.1:\d+)/metrics")


def _config(folder: Path, url: str, hub: str, model_id: bytes, model_dir: Path,
            args: argparse.Namespace) -> Path:  # fmt: skip
    text = f"""[chain]
url = "{url}"
chain_id = 31337
confirmations = 0
poll_interval = {args.poll_interval}
[hub]
address = "{hub}"
[account]
key_env = "{KEY_ENV}"
[store]
path = "oracle.db"
[metrics]
port = 0
[provers]
workers = {args.workers}
{_engine_lines(args)}
[submitter]
max_batch = {args.max_batch}
max_batch_wait = {args.max_batch_wait}
[[models]]
name = "mlp_8_16_1"
id = "0x{model_id.hex()}"
artifacts = "{model_dir}"
"""
    path = folder / "oracle.toml"
    path.write_text(text)
    return path


def _engine_lines(args: argparse.Namespace) -> str:
    if args.engine == "local":
        return ""
    return f'engine = "ray"\nray_address = "{args.ray_address}"\nray_actors = {args.workers}'


def _ray_cluster(args: argparse.Namespace, folder: Path) -> Any:
    """A local Ray cluster of --ray-nodes nodes (None for the local engine)."""
    if args.engine == "local":
        return None
    from oracle.cluster.local import LocalRayCluster, loopback_only

    if not loopback_only():
        raise SystemExit("--engine ray: run in a loopback-only network namespace (see --help)")
    cluster = LocalRayCluster(folder / "ray")
    cluster.start_head()
    for i in range(1, args.ray_nodes):
        cluster.add_node(f"node{i}")
    cluster.wait_for_nodes(args.ray_nodes)
    args.ray_address = cluster.address
    return cluster


def _load_seconds(metrics: str) -> float | None:
    """How long the Ray actors took to get the model to their nodes and load it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{metrics}/health", timeout=10) as resp:
                provers = json.loads(resp.read()).get("provers", {})
        except OSError:
            provers = {}
        if provers.get("state") == "up":
            seconds = provers.get("load_seconds")
            return float(seconds) if seconds is not None else None
        time.sleep(0.2)
    raise SystemExit("the Ray provers did not come up within 300 s")


def _start_daemon(config: Path, key: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``zkoracle serve`` and the base URL of its metrics server."""
    env = {**os.environ, KEY_ENV: key, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oracle.cli", "serve", "-c", str(config)],
            stdout=out, stderr=out, env=env, cwd=config.parent,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the daemon exited: {log.read_text()[-2000:]}")
        found = _METRICS.search(log.read_text(errors="replace"))
        if found:
            return proc, found.group(1)
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the daemon did not start within 120 s")


def _proving_seconds(metrics: str) -> float:
    with urllib.request.urlopen(f"{metrics}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    (line,) = [x for x in text.splitlines() if x.startswith("zkoracle_proving_seconds_sum")]
    return float(line.split()[-1])


class Client:
    """The requesting side: dev accounts of Anvil sending requests, watching results."""

    def __init__(self, w3: Web3, hub: Contract, model_id: bytes) -> None:
        self.w3 = w3
        self.hub = hub
        self.model_id = model_id
        self.senders = w3.eth.accounts[1:]
        self.sent = 0
        self.rng = random.Random(1)

    def send(self) -> int:
        """Send one request; its id (requests are numbered from 1 in order)."""
        inputs = [self.rng.randint(-(2**16), 2**16) for _ in range(8)]
        fn = self.hub.functions.request(self.model_id, inputs, ZERO, 0, 0)
        fn.transact({"from": self.senders[self.sent % len(self.senders)], "gas": 500_000})
        self.sent += 1
        return self.sent

    def fulfilled(self, request_id: int) -> bool:
        return int(self.hub.functions.result(request_id).call()[0]) == 2

    def fulfilled_count(self, since: int) -> int:
        """``InferenceFulfilled`` events from block `since` on."""
        logs = self.hub.events.InferenceFulfilled().get_logs(from_block=since, to_block="latest")
        return len(only_from(self.hub.address, logs))

    def wait(self, done: Any, timeout: float, step: float) -> float:
        """Poll `done()` every `step` s; the time it first held."""
        deadline = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out after {timeout} s")
            time.sleep(step)
        return time.perf_counter()


def bench_latency(client: Client, n: int, poll: float) -> list[float]:
    latencies = []
    for _ in range(n):
        time.sleep(client.rng.uniform(0, poll))
        t0 = time.perf_counter()
        request_id = client.send()
        t1 = client.wait(lambda i=request_id: client.fulfilled(i), 60, 0.005)
        latencies.append(t1 - t0)
    return latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_burst(
    client: Client, n: int, metrics: str, daemon: int, workers: int
) -> dict[str, float]:
    since = int(client.w3.eth.block_number) + 1
    proving0, cpu0 = _proving_seconds(metrics), _cpu_seconds(daemon)
    t0 = time.perf_counter()
    for _ in range(n):
        client.send()
    t1 = client.wait(lambda: client.fulfilled_count(since) >= n, 300, 0.02)
    cpu = _cpu_seconds(daemon) - cpu0
    time.sleep(0.5)  # the daemon records the last proving time before it submits
    proving = _proving_seconds(metrics) - proving0
    wall = t1 - t0
    return {
        "wall_s": wall,
        "throughput_per_s": n / wall,
        "proving_s_sum": proving,
        "overhead": (wall - proving / workers) / wall,
        "daemon_cpu_ms_per_request": 1000 * cpu / n,
    }


def _daemon_gas(w3: Web3, sender: str, since: int) -> int:
    """Gas used by `sender`'s transactions mined from block `since` on."""
    total = 0
    for number in range(since, int(w3.eth.block_number) + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if not isinstance(tx, bytes) and tx["from"] == sender:
                total += int(w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
    return total


def compare_batching(args: argparse.Namespace) -> list[dict[str, float]]:
    """One burst of --burst requests with ``max_batch = 1`` and with --max-batch, each on a
    fresh Anvil: wall time, requests per second and the daemon's gas per request."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="zkoracle-bench-batch-") as tmp:
        model_dir = _model(Path(tmp))
        for max_batch in (1, args.max_batch):
            with chains.anvil(signer=None) as chain:
                folder = Path(tmp) / f"batch-{max_batch}"
                folder.mkdir()
                dep = deploy_model(chain, model_dir)
                hub = chain.contract(dep.hub, hub_contracts()["ZkOracle"])
                daemon = Account.create()
                chain.fund(daemon.address, 10**20)
                url = getattr(chain.w3.provider, "endpoint_uri", "")
                run_args = argparse.Namespace(**{**vars(args), "max_batch": max_batch})
                config = _config(folder, url, dep.hub, dep.model_id, model_dir, run_args)
                proc, metrics = _start_daemon(config, daemon.key.hex(), folder / "daemon.log")
                try:
                    client = Client(chain.w3, hub, dep.model_id)
                    bench_latency(client, 1, args.poll_interval)  # warm-up
                    since = int(chain.w3.eth.block_number) + 1
                    burst = bench_burst(client, args.burst, metrics, proc.pid, args.workers)
                    gas = _daemon_gas(chain.w3, daemon.address, since)
                finally:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(60)
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


def _model(folder: Path) -> Path:
    path = examples.save(examples.mlp((8, 16, 1)), folder / "mlp_8_16_1.onnx")
    model_dir = folder / "mlp_8_16_1"
    pipeline.compile_model(path, model_dir, progress=lambda _m: None)
    pipeline.setup(model_dir, progress=lambda _m: None)
    return model_dir


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="zkoracle-bench-daemon-") as tmp,
        chains.anvil(signer=None) as chain,
    ):
        folder = Path(tmp)
        cluster = _ray_cluster(args, folder)
        model_dir = _model(folder)
        dep = deploy_model(chain, model_dir)
        hub = chain.w3.eth.contract(
            address=Web3.to_checksum_address(dep.hub), abi=hub_contracts()["ZkOracle"].abi
        )
        daemon = Account.create()
        chain.fund(daemon.address, 10**20)
        url = getattr(chain.w3.provider, "endpoint_uri", "")
        config = _config(folder, url, dep.hub, dep.model_id, model_dir, args)
        proc, metrics = _start_daemon(config, daemon.key.hex(), folder / "daemon.log")
        try:
            load_s = _load_seconds(metrics) if cluster is not None else None
            client = Client(chain.w3, hub, dep.model_id)
            bench_latency(client, 1, args.poll_interval)  # warm-up: keys into memory
            latencies = bench_latency(client, args.requests, args.poll_interval)
            bursts = [
                bench_burst(client, args.burst, metrics, proc.pid, args.workers)
                for _ in range(args.bursts)
            ]
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(60)
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
