"""A Ray cluster on this one machine: a head and worker nodes, each a raylet of its own
with its own model cache (as separate machines would have), started with `ray start` and
stopped or killed like a machine losing power. For development, tests and benchmarks.

Ray binds every interface and advertises the machine's first non-loopback address: run it
in a network namespace whose one interface is loopback (``unshare -n``) to keep it on this
machine; `loopback_only` tells whether the current process is in one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def loopback_only() -> bool:
    """Whether loopback is the only network device of this process's namespace."""
    return network_devices() == ["lo"]


def network_devices() -> list[str]:
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]  # this namespace's devices
    return sorted(line.split(":")[0].strip() for line in lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRayCluster:
    """`ray start` processes: the head and any number of worker nodes, 1 CPU each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: dict[str, subprocess.Popen[bytes]] = {}

    def _env(self, name: str) -> dict[str, str]:
        cache = self.root / f"cache-{name}"
        cache.mkdir(parents=True, exist_ok=True)
        return {**os.environ, "ZKORACLE_CACHE_DIR": str(cache), "RAY_USAGE_STATS_ENABLED": "0"}

    def _start(self, name: str, args: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.nodes[name] = subprocess.Popen(
            [str(RAY), "start", "--block", "--num-cpus=1", "--object-store-memory=80000000",
             "--disable-usage-stats", *args],
            env=self._env(name), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def start_head(self) -> None:
        self._start("head", ["--head", f"--port={self.port}", "--include-dashboard=false"])
        self.wait_for_nodes(1)

    def add_node(self, name: str) -> None:
        self._start(name, [f"--address={self.address}"])

    def alive_nodes(self) -> int:
        out = subprocess.run(
            [sys.executable, "-c", _COUNT_NODES, self.address],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return int(out.stdout.strip() or 0)

    def wait_for_nodes(self, n: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive_nodes() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Ray cluster did not reach {n} nodes in {timeout:.0f} s")
            time.sleep(0.5)

    def kill(self, name: str) -> None:
        """SIGKILL every process of a node, as a machine losing power would: the node runs
        in a session of its own (workers start process groups of their own within it)."""
        process = self.nodes.pop(name)
        for pid in _session_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(30)

    def stop(self) -> None:
        for name in list(self.nodes)[::-1]:
            self.kill(name)
        # Workers re-parented away from a killed raylet end with it; sweep stragglers.
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=60)

    def node_cache(self, name: str) -> Path:
        return self.root / f"cache-{name}" / "ray-models"


def _session_members(sid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # after the command: state, ppid, pgrp, session
                members.append(int(stat.parent.name))
    return members


_COUNT_NODES = """
import sys, ray
try:
    ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
    print(sum(1 for n in ray.nodes() if n["Alive"]))
except Exception:
    print(0)
"""
