"""The RPC endpoint disappears for 30 s and comes back: the daemon retries with backoff,
stays up, and catches up without losing or repeating a fulfillment.

The daemon talks to Anvil through a TCP proxy on loopback; cutting the proxy makes the
endpoint refuse connections while the chain goes on (requests keep arriving on it).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from oracle.daemon.jobs import State
from oracle.daemon.store import Store
from tests.e2e.e2e_proxy import TcpProxy
from tests.e2e.e2e_stack import DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

OUTAGE_S = 30.0
_RETRY = re.compile(r"failed \(\w+\), retrying in ([0-9.]+) s")


@pytest.fixture
def proxy(stack: Stack) -> Iterator[TcpProxy]:
    assert stack.chain._node is not None and stack.chain._node.port is not None
    p = TcpProxy(stack.chain._node.port).restore()
    try:
        yield p
    finally:
        p.close()


def _health(base: str) -> dict[str, object]:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:  # 503 while unhealthy, with the same document
        return dict(json.loads(exc.read()))


def test_the_daemon_rides_out_a_30_s_rpc_outage(
    stack: Stack, proxy: TcpProxy, tmp_path: Path
) -> None:
    config = write_config(tmp_path, stack, url=proxy.url, confirmations=1, metrics_port=0)
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    try:
        daemon.start()
        metrics = daemon.metrics_base()
        first = stack.request([1000, 2000, -3000])
        wait_for("the first fulfillment", lambda: stack.status(first) == 2, 60)

        store = Store(tmp_path / "state" / "oracle.db")
        second = stack.request([-1000, 500, 250])
        wait_for("the second proof to start", lambda: store.counts()[State.PROVING] > 0, 30, 0.005)
        proxy.cut()
        cut_at = time.monotonic()
        later = [stack.request([7, 8, 9]), stack.request([10, -11, 12])]  # the chain goes on
        time.sleep(OUTAGE_S - 5 - (time.monotonic() - cut_at))
        during = _health(metrics)
        states = store.counts()
        assert daemon.alive(), daemon.tail()
        time.sleep(OUTAGE_S - (time.monotonic() - cut_at))
        proxy.restore()
        back_at = time.monotonic()

        ids = [first, second, *later]
        wait_for("every fulfillment", lambda: all(stack.status(i) == 2 for i in ids), 60, 0.05)
        catch_up = time.monotonic() - back_at
        wait_for("the store to confirm", lambda: store.counts()[State.CONFIRMED] == 4, 30)
        after = _health(metrics)
        store.close()
        assert daemon.stop() == 0, daemon.tail()
    finally:
        daemon.cleanup()

    print(f"caught up {catch_up:.1f} s after a {OUTAGE_S:.0f} s outage")
    # Nothing confirmed while the chain was out of reach; nothing lost or doubled after.
    assert states[State.CONFIRMED] == 1 and states[State.SEEN] == 0, states
    assert stack.fulfilled_counts() == Counter(dict.fromkeys(ids, 1))
    mined = stack.daemon_fulfill_txs()
    assert {i: [r["status"] for r in rs] for i, rs in mined.items()} == {i: [1] for i in ids}
    assert stack.w3.eth.get_transaction_count(stack.daemon.address) == len(ids)
    assert catch_up < 20, catch_up
    # The daemon said what was wrong and backed off, doubling its waits up to the cap.
    assert "RPC endpoint failed" in str(during["last_error"]), during
    assert after["status"] == "ok", after
    logs = daemon.logs()
    waits = [float(m.group(1)) for e in logs if (m := _RETRY.search(e["msg"]))]
    assert waits[:5] == [0.25, 0.5, 1.0, 2.0, 4.0], waits[:10]
    assert any(e["msg"].startswith("chain unreachable during") for e in logs)
