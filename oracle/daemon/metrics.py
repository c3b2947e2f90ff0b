"""Prometheus metrics in the text exposition format (0.0.4), and the health endpoint.

Counters, gauges and histograms are small thread-safe objects kept in a `Registry`; the
`MetricsServer` (``http.server`` in a daemon thread, bound to 127.0.0.1) serves
``/metrics`` and ``/health``. `DaemonMetrics` holds the metrics the daemon updates;
`StepGuard` runs its steps and keeps the outcomes ``/health`` reports.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from oracle.errors import ChainConnectionError

LabelValues = tuple[str, ...]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
log = logging.getLogger(__name__)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**63:
        return str(int(value))
    return repr(float(value))


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {sorted(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only goes up; the name should end in ``_total``."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {} if labels else {(): 0.0}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot go down ({amount})")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]


class Gauge(Counter):
    """A value that goes up and down."""

    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Histogram(_Metric):
    """Observations counted in cumulative buckets (upper bounds ``le``), plus sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        super().__init__(name, help_text)
        self.bounds = (*sorted({float(b) for b in buckets} - {math.inf}), math.inf)
        self._counts = [0] * len(self.bounds)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            for i, bound in enumerate(self.bounds):
                if value <= bound:
                    self._counts[i] += 1
                    break

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self._counts)

    @property
    def total(self) -> float:
        """Sum of every observed value."""
        with self._lock:
            return self._sum

    def samples(self) -> list[str]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        lines, running = [], 0
        for bound, n in zip(self.bounds, counts, strict=True):
            running += n
            lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
        lines.append(f"{self.name}_sum {_number(total)}")
        lines.append(f"{self.name}_count {running}")
        return lines


M = TypeVar("M", bound=_Metric)


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def add(self, metric: M) -> M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is registered twice")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header() + metric.samples()
        return "\n".join(lines) + "\n"


_PROVING_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
_LATENCY_BUCKETS = (5, 10, 30, 60, 120, 300, 600, 1200, 3600)


class DaemonMetrics:
    """Every metric `zkoracle serve` exports."""

    def __init__(self) -> None:
        r = self.registry = Registry()
        self.requests_seen = r.add(
            Counter("zkoracle_requests_seen_total", "Requests turned into jobs.")
        )
        self.proofs_generated = r.add(
            Counter("zkoracle_proofs_generated_total", "Proofs produced by the provers.")
        )
        self.failures = r.add(
            Counter("zkoracle_failures_total", "Jobs that failed, by reason.", ["reason"])
        )
        self.skipped = r.add(
            Counter(
                "zkoracle_jobs_skipped_total",
                "Requests refused before proving by the model's policy, by reason.",
                ["reason"],
            )
        )
        self.feed_refusals = r.add(
            Counter(
                "zkoracle_feed_source_refused_total",
                "Feed source reads refused (stale, incomplete or non-positive), by feed.",
                ["feed"],
            )
        )
        self.gas_spent = r.add(
            Counter("zkoracle_gas_spent_wei_total", "Wei paid for mined transactions.")
        )
        self.transactions = r.add(
            Counter("zkoracle_transactions_total", "Transactions broadcast, by kind.", ["kind"])
        )
        self.reorgs = r.add(Counter("zkoracle_reorgs_total", "Chain reorganisations handled."))
        self.proving_seconds = r.add(
            Histogram("zkoracle_proving_seconds", "Time to prove one job.", _PROVING_BUCKETS)
        )
        self.latency_seconds = r.add(
            Histogram(
                "zkoracle_fulfillment_latency_seconds",
                "From a request being seen to its fulfillment being confirmed.",
                _LATENCY_BUCKETS,
            )
        )
        self.jobs = r.add(Gauge("zkoracle_jobs", "Jobs in the store, by state.", ["state"]))
        self.head = r.add(Gauge("zkoracle_chain_head", "Latest block number seen."))
        self.cursor = r.add(Gauge("zkoracle_cursor_block", "Last block scanned."))
        self.provers_up = r.add(
            Gauge("zkoracle_provers_up", "1 while the proving engine can take jobs.", ["engine"])
        )
        self.prover_slots = r.add(
            Gauge("zkoracle_prover_slots", "Provers ready (workers or actors).", ["engine"])
        )
        self.provers_lost = r.add(
            Counter("zkoracle_provers_lost_total", "Proofs lost with their prover, re-queued.")
        )


class StepGuard:
    """Runs the daemon's chain steps and keeps what its health is judged by.

    A failed step never ends the loop: an unreachable chain is logged, any other error is
    logged with its traceback and counted in `failures`. The daemon is healthy while some
    step succeeded within `window` seconds.
    """

    def __init__(self, failures: Counter, window: float) -> None:
        self.failures = failures
        self.window = window
        self.last_ok: float | None = None
        self.last_error: str | None = None

    def run(self, what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except ChainConnectionError as exc:
            self.last_error = f"{what}: {exc}"
            log.error("chain unreachable during %s: %s", what, exc)
            return
        except Exception as exc:
            self.last_error = f"{what}: {type(exc).__name__}: {exc}"
            self.failures.inc(reason=f"{what}_error")
            log.exception("%s step failed", what)
            return
        self.last_ok = time.time()

    def healthy(self) -> bool:
        return self.last_ok is not None and time.time() - self.last_ok <= self.window


HealthCheck = Callable[[], tuple[bool, Mapping[str, Any]]]
#: Renders the HTML status page served at ``/``.
StatusPage = Callable[[], str]


class MetricsServer:
    """``/metrics``, ``/health`` and (given a `page`) the status page at ``/`` on
    127.0.0.1:`port` (0: any free port) in a thread."""

    def __init__(
        self, registry: Registry, health: HealthCheck, port: int = 0, page: StatusPage | None = None
    ) -> None:
        self.registry = registry
        self.health = health
        self.page = page
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/" and server.page is not None:
                    self._page(server.page)
                elif self.path.split("?")[0] == "/metrics":
                    self._reply(200, CONTENT_TYPE, server.registry.render())
                elif self.path.split("?")[0] == "/health":
                    ok, detail = server.health()
                    body = json.dumps({"status": "ok" if ok else "unhealthy", **detail})
                    self._reply(200 if ok else 503, "application/json", body)
                else:
                    self._reply(404, "text/plain", "not found: try /metrics or /health\n")

            def _page(self, page: StatusPage) -> None:
                try:
                    body = page()
                except Exception as exc:  # the daemon goes on; the page says what broke
                    self._reply(500, "text/plain", f"status page failed: {type(exc).__name__}\n")
                    return
                self._reply(200, "text/html; charset=utf-8", body)

            def _reply(self, code: int, content_type: str, body: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would drown the daemon's own log

        return Handler

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
