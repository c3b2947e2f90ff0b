"""The daemon's main loop: watcher -> store -> provers -> submitter, and feeds.

Each iteration (every ``poll_interval`` seconds, and at once when a proof finishes, so a
proof never waits for the next poll to be sent):

1. the watcher reads new confirmed requests (and handles reorgs);
2. the feed scheduler adds the feed rounds now due;
3. finished proofs are stored as ``proved`` with their calldata;
4. queued jobs go to the provers (``seen -> proving``, at most ``workers`` proving and as
   many queued behind them); a request the model cannot take (input count, input range,
   unconfigured model) fails here with the reason, without a prover, and so does one the
   model's policy refuses (fee, callback gas, expiry: `oracle.daemon.policy`): the job's
   task or the reason it gets none comes from `oracle.daemon.tasks`;
5. the submitter follows sent transactions and sends proved jobs.

An unreachable chain (after the RPC retries) marks the daemon unhealthy for that step
and the loop goes on; every piece of state is in the store, so a crash or restart
resumes where it stopped. `stop` (SIGTERM) ends the loop: in-flight proofs get
``shutdown_grace`` seconds to finish (and are stored and submitted); the others are
parked back to ``seen`` for the next start.

The chain is an RPC endpoint (kind "rpc"), a chain handed in by an in-process caller
(`Chain` or `Web3`, e.g. the embedded chain of a demo), or one the daemon starts itself
(kind "anvil" / "embedded", `oracle.daemon.endpoint`). `run` is `start`, `tick` until
stopped, `close`; an in-process caller sharing a single-threaded chain calls them itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from web3 import Web3

from circuits import Manifest
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.daemon import endpoint
from oracle.daemon.batching import submitter_for
from oracle.daemon.config import DaemonConfig
from oracle.daemon.errors import DaemonError, IllegalTransition, ProverLost
from oracle.daemon.feeds import FeedScheduler
from oracle.daemon.jobs import State
from oracle.daemon.metrics import DaemonMetrics, MetricsServer, StepGuard
from oracle.daemon.outcomes import StepReport
from oracle.daemon.provers import ProofResult, ProofTask, ProverEngine, start_engine
from oracle.daemon.store import Store
from oracle.daemon.tasks import NoTask, TaskMaker
from oracle.daemon.watcher import PollReport, Watcher, WatcherSettings
from oracle.errors import ChainConnectionError
from oracle.hub import Hub
from oracle.rpc import DEFAULT_RETRY, RetryPolicy

log = logging.getLogger(__name__)
#: Proof attempts a job may take that end with a dead prover process before it fails.
MAX_PROVE_ATTEMPTS = 3


class Service:
    def __init__(
        self,
        config: DaemonConfig,
        *,
        chain: Chain | None = None,
        w3: Web3 | None = None,
        signer: Signer | None = None,
        hub_abi: Sequence[Mapping[str, Any]] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        shutdown_grace: float = 30.0,
    ) -> None:
        self.signer = signer or (chain.signer if chain else None) or config.account.load()
        self.config = config = config.with_owner(self.signer.address)
        self.own_chain: Chain | None = None  # a chain this service started, stopped by it
        if chain is None and w3 is None and config.chain.kind != "rpc":
            chain = self.own_chain = endpoint.start_chain(config, self.signer)
        try:
            self._connect(config, chain, w3, hub_abi, retry)
            self._assemble(config)
        except BaseException:
            if self.own_chain is not None:
                self.own_chain.close()
            raise
        self.metrics = DaemonMetrics()
        self.shutdown_grace = shutdown_grace
        self.pool: ProverEngine | None = None
        self.server: MetricsServer | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # set when a proof finishes or on stop
        self._next_watch = 0.0  # monotonic time of the next watch step
        self.steps = StepGuard(self.metrics.failures, max(30.0, 3 * config.chain.poll_interval))

    def _connect(
        self,
        config: DaemonConfig,
        chain: Chain | None,
        w3: Web3 | None,
        hub_abi: Sequence[Mapping[str, Any]] | None,
        retry: RetryPolicy,
    ) -> None:
        self.w3 = w3 or (chain.w3 if chain else endpoint.connect(config))
        address = config.hub
        if address is None:
            if chain is None:
                raise DaemonError(f"{config.file}: [hub].address is needed with a Web3 handed in")
            address = endpoint.deploy_hub(chain, config, self.signer.address)
        self.hub = Hub(self.w3, address, abi=hub_abi, retry=retry)
        self.chain_id = int(self.w3.eth.chain_id)
        if config.operator_keys is not None:  # requesters seal to the key published there
            from oracle.operator_keys import publish_at_start

            publish_at_start(chain or self.w3, config.chain.kind, config.operator_keys, self.signer)

    def _assemble(self, config: DaemonConfig) -> None:
        """The store and the parts working on it."""
        layouts = {m.model_id: Manifest.load(m.artifacts).layout for m in config.models}
        self.tasks = TaskMaker(config, layouts, self.hub, self.signer, self.chain_id)
        self.store = Store(config.store_path, owner=True)
        chain = config.chain
        settings = WatcherSettings(chain.confirmations, chain.max_block_range, chain.start_block,
                                   chain.reorg_depth)  # fmt: skip
        self.watcher = Watcher(
            self.hub, self.store, settings, model_ids=[m.model_id for m in config.models]
        )
        self.submitter = submitter_for(config, self.hub, self.store, self.signer)
        models = {m.name: m for m in config.models}
        self.feeds = (
            FeedScheduler(
                self.hub,
                self.store,
                config.feeds,
                models,
                clock=time.time,
                on_refused=self._feed_refused,
            )
            if config.feeds
            else None
        )

    # -- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wake.set()

    def start(self) -> None:
        """Requeue proofs a crash interrupted, sync the nonce, start provers and metrics."""
        for job in self.store.recover_interrupted():
            log.warning("proof interrupted by a restart: queued again", extra={"job": job.id})
        self.submitter.sync_nonce()
        self.pool = start_engine(self.config, self._wake.set)
        if self.config.metrics_port is not None:
            self.server = MetricsServer(
                self.metrics.registry, self.health, self.config.metrics_port, self.status_page
            )
            self.server.start()
            log.info("metrics on http://127.0.0.1:%d/metrics", self.server.port)
        log.info(
            "serving hub %s as %s",
            self.hub.address,
            self.signer.address,
            extra={"hub": self.hub.address, "chain_id": self.chain_id},
        )

    def run(self, *, max_iterations: int | None = None) -> None:
        """Run until `stop` (or `max_iterations` loops, for tests and one-shot runs)."""
        iterations = 0
        try:
            self.start()
            while not self._stop.is_set():
                self._wake.clear()  # a proof finishing during the tick wakes the next one
                self.tick()
                iterations += 1
                if max_iterations is not None and iterations >= max_iterations:
                    break
                self._wake.wait(self.config.chain.poll_interval)
        finally:
            self.close()

    def close(self) -> None:
        """Finish or park the proofs in flight, submit what is proved, stop everything
        `start` started (and a chain of the daemon's own)."""
        if self.pool is not None:
            self._finish_proofs(self.pool)
            self.steps.run("submit", self._submit)
        if self.server is not None:
            self.server.stop()
        self.store.close()
        if self.own_chain is not None:
            self.own_chain.close()
        log.info("stopped")

    def _finish_proofs(self, pool: ProverEngine) -> None:
        if pool.in_flight:
            log.info(
                "waiting up to %.0f s for %d proof(s)", self.shutdown_grace, len(pool.in_flight)
            )
            pool.wait(self.shutdown_grace)
            self._collect()
        for job_id in pool.in_flight:
            self.store.park(job_id, "parked at shutdown")
        pool.close(kill=True)

    # -- one iteration ---------------------------------------------------------------------

    def tick(self) -> None:
        """One pass. The chain is watched (and feeds scheduled) at most once per poll
        interval: a pass woken early by a finished proof only stores and sends it."""
        now = time.monotonic()
        if now >= self._next_watch:
            self._next_watch = now + self.config.chain.poll_interval
            self.steps.run("watch", self._watch)
            if self.feeds is not None:
                self.steps.run("feeds", self._feed_step)
        self.steps.run("collect", self._collect)
        self.steps.run("dispatch", self._dispatch)
        self.steps.run("submit", self._submit)
        self._report_provers()
        for state, n in self.store.counts().items():
            self.metrics.jobs.set(n, state=state.value)

    def _each_job(self, job_id: int, what: str, step: Any) -> Any:
        """`step()` for one job; if it raises (other than an unreachable chain), the job
        fails with the error as its reason and None is returned: the loop goes on."""
        try:
            return step()
        except ChainConnectionError:
            raise
        except Exception as exc:
            self._fail(job_id, f"{what}_error", f"{what}: {type(exc).__name__}: {exc}")
            return None

    def _feed_step(self) -> None:
        """Feeds must not take request serving down with them: their errors are logged."""
        assert self.feeds is not None
        try:
            self.feeds.tick(*self.hub.latest_block())
        except ChainConnectionError:
            raise
        except Exception as exc:
            self.steps.last_error = f"feeds: {type(exc).__name__}: {exc}"
            log.exception("feed scheduling failed")

    def _feed_refused(self, feed_id: bytes, why: str) -> None:
        self.metrics.feed_refusals.inc(feed="0x" + feed_id.hex())
        self.steps.last_error = f"feed 0x{feed_id.hex()}: {why}"

    def _watch(self) -> None:
        report: PollReport = self.watcher.poll()
        self.metrics.head.set(report.head)
        self.metrics.cursor.set(report.cursor if report.cursor is not None else -1)
        self.metrics.requests_seen.inc(len(report.new_jobs))
        if report.fork_point is not None:
            self.metrics.reorgs.inc()
        for job in [*report.vanished, *report.failed]:
            self.metrics.failures.inc(reason=job.reason_code or "unknown")

    def _skip(self, job_id: int, code: str, reason: str) -> None:
        self.store.mark_failed(job_id, code, f"skipped: {reason}")
        self.metrics.skipped.inc(reason=code)
        log.warning("job skipped: %s", reason, extra={"job": job_id, "reason": code})

    def _dispatch(self) -> None:
        assert self.pool is not None
        while self.pool.has_capacity() and not self._stop.is_set():
            queued = self.store.jobs(State.SEEN, limit=1)
            if not queued:
                return
            job = queued[0]
            task = self._each_job(job.id, "dispatch", lambda: self.tasks.task(job))  # noqa: B023
            if isinstance(task, NoTask):
                (self._skip if task.skipped else self._fail)(job.id, task.code, task.reason)
            if not isinstance(task, ProofTask):
                continue
            self.store.start_proving(task.job_id)
            self.pool.submit(task)
            log.info("proving", extra={"job": task.job_id, "model_dir": task.model_dir})

    def _feed_provers(self) -> None:
        if self.pool is not None and self.pool.done_count():
            self._collect()
            self._dispatch()

    def _collect(self) -> None:
        assert self.pool is not None
        broken = False
        for job_id, outcome in self.pool.done():
            if isinstance(outcome, ProofResult):
                result = outcome
                self._each_job(job_id, "store_proof", lambda: self._proved(job_id, result))  # noqa: B023
            elif isinstance(outcome, BrokenProcessPool):
                broken = True
                self._park_or_fail(job_id, "prover process died")
            elif isinstance(outcome, ProverLost):  # its actor, node or cluster went away
                self.metrics.provers_lost.inc()
                self.store.park(job_id, str(outcome))
            else:
                self._fail(job_id, "prove_error", f"{type(outcome).__name__}: {outcome}")
        limit = self.config.proof_timeout
        overdue = {j for j, t in self.pool.in_flight.items() if time.monotonic() - t > limit}
        if broken or overdue:
            for job_id in self.pool.restart():
                if job_id in overdue:
                    self._fail(job_id, "prove_timeout", f"no proof after {limit:.0f} s")
                else:
                    self.store.park(job_id, "prover pool restarted")

    def _report_provers(self) -> None:
        assert self.pool is not None
        status = self.pool.status()
        engine = str(status["engine"])
        self.metrics.provers_up.set(1.0 if status["state"] == "up" else 0.0, engine=engine)
        self.metrics.prover_slots.set(float(status["actors"]), engine=engine)

    def _park_or_fail(self, job_id: int, why: str) -> None:
        """Queue a job whose prover died again, unless it has killed its prover
        `MAX_PROVE_ATTEMPTS` times: then it is the job, and it fails."""
        if self.store.get(job_id).attempts >= MAX_PROVE_ATTEMPTS:
            self._fail(job_id, "prover_crashed", f"{why} on each of {MAX_PROVE_ATTEMPTS} attempts")
        else:
            self.store.park(job_id, why)

    def _fail(self, job_id: int, code: str, reason: str) -> None:
        self.store.mark_failed(job_id, code, reason)
        self.metrics.failures.inc(reason=code)
        log.error("job failed: %s", reason, extra={"job": job_id, "reason": code})

    def _proved(self, job_id: int, result: ProofResult) -> None:
        job = self.store.get(job_id)
        calldata = self.tasks.calldata(self.w3, job, result)
        try:
            self.store.mark_proved(job_id, result.outputs, result.proof_bytes, calldata)
        except IllegalTransition:  # e.g. failed meanwhile because a reorg removed its request
            log.info("proof no longer needed", extra={"job": job_id})
            return
        self.metrics.proofs_generated.inc()
        self.metrics.proving_seconds.observe(result.seconds)
        log.info("proved", extra={"job": job_id, "seconds": round(result.seconds, 3)})

    def _submit(self) -> None:
        # Between two transactions, finished proofs are stored and the provers get their
        # next jobs: a long step must not leave them idle.
        report: StepReport = self.submitter.step(between=self._feed_provers)
        self.metrics.gas_spent.inc(report.gas_spent_wei)
        for kind, jobs in (("sent", report.sent), ("replaced", report.replaced),
                           ("rebroadcast", report.rebroadcast)):  # fmt: skip
            self.metrics.transactions.inc(len(jobs), kind=kind)
        for job in report.confirmed:
            self.metrics.latency_seconds.observe(max(0.0, time.time() - job.created_at))
        for job in report.failed:
            self.metrics.failures.inc(reason=job.reason_code or "unknown")
        if report.rejected:
            self.metrics.failures.inc(len(report.rejected), reason="tx_rejected")

    # -- health ----------------------------------------------------------------------------

    def status_page(self) -> str:
        """The operator's status page (HTML), served at ``/`` by the metrics server."""
        from oracle.pages.status import StatusSnapshot, render_status

        return render_status(StatusSnapshot.of(self))

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while some chain step succeeded within 3 poll intervals (at least 30 s)."""
        ok = self.steps.healthy()
        detail: dict[str, Any] = {
            "account": self.signer.address,
            "hub": self.hub.address,
            "chain_id": self.chain_id,
            "head": self.metrics.head.value(),
            "cursor": self.metrics.cursor.value(),
            "proofs_in_flight": len(self.pool.in_flight) if self.pool else 0,
            "last_error": self.steps.last_error,
        }
        if self.pool is not None:
            provers = self.pool.status()
            detail["provers"] = provers
            # Proving stopped: unhealthy, unless local workers stand in for the cluster.
            if provers["state"] != "up" and not provers["fallback_active"]:
                ok = False
        return ok, detail
