"""Metrics exposition over real HTTP, the health endpoint, and JSON logs without keys."""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account

from oracle.accounts import Signer
from oracle.daemon.logs import JsonFormatter, setup_logging
from oracle.daemon.metrics import Counter, DaemonMetrics, Histogram, MetricsServer
from oracle.redaction import REDACTED, register_secret

# One sample line of the text format: name, optional labels, value.
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="([^"\\]|\\.)*",?)*\})? \S+$')


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


@pytest.fixture
def served() -> Iterator[tuple[DaemonMetrics, MetricsServer, dict[str, Any]]]:
    metrics = DaemonMetrics()
    state: dict[str, Any] = {"ok": True, "detail": {"head": 12}}
    server = MetricsServer(metrics.registry, lambda: (state["ok"], state["detail"])).start()
    yield metrics, server, state
    server.stop()


def test_metrics_are_served_in_the_text_format(
    served: tuple[DaemonMetrics, MetricsServer, dict[str, Any]],
) -> None:
    metrics, server, _ = served
    metrics.requests_seen.inc(3)
    metrics.failures.inc(reason="invalid_proof")
    metrics.failures.inc(2, reason="expired")
    metrics.gas_spent.inc(21_000 * 10**9)
    for seconds in (0.3, 4.0, 4.5, 7000.0):
        metrics.proving_seconds.observe(seconds)
    metrics.jobs.set(2, state="seen")
    status, content_type, body = _get(f"http://127.0.0.1:{server.port}/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    lines = body.splitlines()
    assert "zkoracle_requests_seen_total 3" in lines
    assert 'zkoracle_failures_total{reason="expired"} 2' in lines
    assert 'zkoracle_failures_total{reason="invalid_proof"} 1' in lines
    assert "zkoracle_gas_spent_wei_total 21000000000000" in lines
    assert 'zkoracle_proving_seconds_bucket{le="0.5"} 1' in lines
    assert 'zkoracle_proving_seconds_bucket{le="5"} 3' in lines
    assert 'zkoracle_proving_seconds_bucket{le="+Inf"} 4' in lines
    assert "zkoracle_proving_seconds_count 4" in lines
    assert "# TYPE zkoracle_proving_seconds histogram" in lines
    assert 'zkoracle_jobs{state="seen"} 2' in lines
    for line in lines:
        assert line.startswith("# ") or SAMPLE.match(line), line


def test_health_reports_ok_or_503_and_unknown_paths_404(
    served: tuple[DaemonMetrics, MetricsServer, dict[str, Any]],
) -> None:
    _, server, state = served
    status, content_type, body = _get(f"http://127.0.0.1:{server.port}/health")
    assert status == 200 and content_type == "application/json"
    assert json.loads(body) == {"status": "ok", "head": 12}
    state["ok"], state["detail"] = False, {"error": "rpc down"}
    status, _, body = _get(f"http://127.0.0.1:{server.port}/health")
    assert status == 503 and json.loads(body)["status"] == "unhealthy"
    assert _get(f"http://127.0.0.1:{server.port}/nope")[0] == 404


def test_metric_objects_reject_misuse() -> None:
    counter = Counter("x_total", "x", ["reason"])
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(kind="a")
    with pytest.raises(ValueError, match="cannot go down"):
        counter.inc(-1, reason="a")
    counter.inc(reason='quote " and \\ backslash\n')
    assert counter.samples() == ['x_total{reason="quote \\" and \\\\ backslash\\n"} 1']
    histogram = Histogram("h_seconds", "h", [1, 0.1])
    histogram.observe(0.1)
    assert histogram.samples()[0] == 'h_seconds_bucket{le="0.1"} 1'


def test_json_logs_carry_extra_fields_and_never_a_key() -> None:
    account = Account.create()
    key_hex = account.key.hex()
    register_secret("0x" + key_hex)
    stream = io.StringIO()
    handler = setup_logging("debug", stream)
    log = logging.getLogger("oracle.daemon.test")
    try:
        signer = Signer.from_key(account.key)
        log.info("loaded %s", signer, extra={"job": 7, "tx": b"\x01\x02"})
        log.warning("oops with %s", key_hex.upper())  # a careless caller
        try:
            raise RuntimeError(f"bad key 0x{key_hex}")
        except RuntimeError:
            log.exception("failure")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == f"loaded Signer(address={account.address})"
    assert lines[0]["job"] == 7 and lines[0]["tx"] == "0x0102" and lines[0]["level"] == "info"
    assert lines[1]["msg"] == f"oops with {REDACTED}"
    assert REDACTED in lines[2]["exc"]
    assert key_hex not in stream.getvalue().lower()


def test_formatter_is_plain_json_per_record() -> None:
    record = logging.LogRecord("n", logging.ERROR, __file__, 1, "x=%d", (5,), None)
    doc = json.loads(JsonFormatter().format(record))
    assert doc["msg"] == "x=5" and doc["level"] == "error" and doc["ts"].endswith("+00:00")
