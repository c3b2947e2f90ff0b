"""The stack a daemon benchmark runs on: Anvil with the hub and a model, ``zkoracle
serve`` as a subprocess (as an operator runs it) and the requesting client.

`serving` starts the daemon on a fresh operator account and stops it (SIGTERM, as a
service manager would) however the benchmark ends; the probes read what the daemon
reports on its metrics server and what the chain recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

import circuits
from circuits.onnx import examples
from oracle.chain import Chain
from oracle.hub import deploy_model, hub_contracts, only_from

ROOT = Path(__file__).resolve().parents[1]
KEY_ENV = "ZKORACLE_BENCH_KEY"
ZERO = "0x" + "00" * 20
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


def ray_cluster(args: argparse.Namespace, folder: Path) -> Any:
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


def load_seconds(metrics: str) -> float | None:
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


def proving_seconds(metrics: str) -> float:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def daemon_gas(w3: Web3, sender: str, since: int) -> int:
    """Gas used by `sender`'s transactions mined from block `since` on."""
    total = 0
    for number in range(since, int(w3.eth.block_number) + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if not isinstance(tx, bytes) and tx["from"] == sender:
                total += int(w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
    return total


def build_model(folder: Path) -> Path:
    path = examples.save(examples.mlp((8, 16, 1)), folder / "mlp_8_16_1.onnx")
    model_dir = folder / "mlp_8_16_1"
    circuits.compile_model(path, model_dir, progress=lambda _m: None)
    circuits.setup(model_dir, progress=lambda _m: None)
    return model_dir


@dataclass
class Serving:
    client: Client
    metrics: str  # base URL of the daemon's metrics server
    pid: int  # the daemon's process
    operator: str  # the daemon's account


@contextmanager
def serving(
    chain: Chain, folder: Path, model_dir: Path, args: argparse.Namespace
) -> Iterator[Serving]:
    """Deploy the hub and `model_dir` on `chain`, start ``zkoracle serve`` with `args`'
    settings on a funded fresh account, stop it on exit."""
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
        yield Serving(Client(chain.w3, hub, dep.model_id), metrics, proc.pid, daemon.address)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)
