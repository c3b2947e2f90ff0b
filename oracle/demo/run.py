"""`zkoracle demo`: the whole product on one chain, from generated data to verified outputs.

1. Fit a risk-score model and a trading-signal model on data generated here; export both
   to ONNX.
2. Compile each to a circuit, run a (development) Groth16 setup.
3. Deploy the ZkOracle hub, one verifier per model, a push feed for the signal model, and
   the two example consumers: a lending pool gated on the risk score and a vault that
   trades on the signal.
4. Start the oracle daemon on its own store and config file, as an operator would.
5. Borrowers ask the pool for credit, the vault's keeper asks for a signal, and the feed's
   data source gets a new row; the daemon proves each inference and posts it; the hub
   verifies every proof before the consumers see a value.
6. Print each verified output next to the float model's, with proving time, end-to-end
   latency and gas per fulfillment.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from eth_utils.crypto import keccak

from circuits import compile_model, save_mlp, setup
from oracle import chain as chains
from oracle.chain import Chain
from oracle.contracts import Hub, deploy_contract, hub_contracts
from oracle.daemon.config import load_config
from oracle.daemon.service import Service
from oracle.demo import private
from oracle.demo.onchain_feed import (
    ONCHAIN_FEED_ID,
    OnchainDemo,
    config_section,
    deploy_onchain_feed,
)
from oracle.demo.training import Fitted, fit_demo_models, predict
from oracle.deploy import Deployment, deploy_model
from oracle.errors import OracleError
from oracle.hub_types import RequestStatus, only_from

Say = Callable[[str], None]

FEED_ID = keccak(text="zkoracle-demo:signal-feed")
CALLBACK_GAS = 120_000
#: Environment variable the demo's daemon reads its operator key from (this process only).
OPERATOR_KEY_ENV = "ZKORACLE_DEMO_OPERATOR_KEY"
WAIT_S = 300.0
#: Steps `run_demo` reports to its `step` callback: models ready, contracts deployed, daemon
#: started, then each of the eight waits (three borrowers, the vault, two feed rounds, the
#: feed with on-chain inputs, the private borrower).
DEMO_STEPS = 11


@dataclass
class Outcome:
    """One verified output as the demo saw it."""

    what: str
    model: str
    onchain: float
    float_model: float
    latency_s: float
    fulfill_gas: int


@dataclass
class DemoReport:
    outcomes: list[Outcome] = field(default_factory=list)
    proofs: int = 0
    mean_prove_s: float = 0.0
    consumers: dict[str, str] = field(default_factory=dict)
    models: dict[str, dict[str, float | int | str]] = field(default_factory=dict)


def _float_output(onnx_path: Path, x: np.ndarray) -> float:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"x": x.reshape(1, -1).astype(np.float32)})
    return float(np.asarray(out).reshape(-1)[0])


def prepare_models(work: Path, say: Say) -> dict[str, tuple[Fitted, Path]]:
    """Fit, export, compile and set up both models; {name: (fitted, artifact dir)}."""
    say("fitting the risk-score and trading-signal models on generated data")
    out: dict[str, tuple[Fitted, Path]] = {}
    for fitted in fit_demo_models():
        onnx_path = work / f"{fitted.name}.onnx"
        save_mlp(onnx_path, fitted.layers, head=fitted.head)
        model_dir = work / fitted.name
        t0 = time.perf_counter()
        manifest = compile_model(onnx_path, model_dir)
        t1 = time.perf_counter()
        info = setup(model_dir, progress=lambda m: say(f"  {m}"))
        say(
            f"  {fitted.name}: {fitted.holdout_metric} {fitted.holdout_value:.3f} on held-out "
            f"data, {manifest.n_constraints} constraints, compiled in {t1 - t0:.2f} s, "
            f"setup in {time.perf_counter() - t1:.2f} s ({info.kind})"
        )
        out[fitted.name] = (fitted, model_dir)
    risk = out["risk-score"][0]
    out[private.NAME] = (risk, private.prepare(work, work / "risk-score.onnx", say))
    return out


def _pinned(hub: Hub, dep: Deployment) -> tuple[str, bytes, bytes]:
    """(owner, id, verifier code hash): what a consumer of `dep`'s model pins."""
    model = hub.model(dep.model_id)
    if model is None:
        raise OracleError(f"model 0x{dep.model_id.hex()} is not registered on {hub.address}")
    return model["owner"], dep.model_id, model["verifier_code_hash"]


def _consumers(
    chain: Chain, hub: Hub, risk: Deployment, signal: Deployment, updater: str
) -> tuple[str, str]:
    """The example consumers, each pinning the model it trusts (and the vault the feed's
    updater, who chooses the feed's inputs)."""
    compiled = hub_contracts()
    one_ether = 10**18
    refuse_at = 1 << 15  # a score of 0.5 (output scale 2^16) and above gets no credit
    pool, _ = deploy_contract(
        chain, compiled["RiskGatedLendingPool"], hub.address, *_pinned(hub, risk), 3600,
        refuse_at, 5 * one_ether, CALLBACK_GAS, value=20 * one_ether,
    )  # fmt: skip
    long_at, short_at = 1 << 13, -(1 << 13)  # |signal| >= 0.125 takes a position
    vault, _ = deploy_contract(
        chain, compiled["SignalVault"], hub.address, *_pinned(hub, signal), FEED_ID, updater,
        long_at, short_at, 3600, CALLBACK_GAS,
    )  # fmt: skip
    return pool, vault


def write_config(
    work: Path, chain: Chain, hub: str, deps: dict[str, Deployment], extra: str = ""
) -> Path:
    """The daemon's oracle.toml, as an operator would write it."""
    models = "".join(
        f'[[models]]\nname = "{name}"\nid = "0x{d.model_id.hex()}"\nartifacts = "{d.model_dir}"\n'
        for name, d in deps.items()
    )
    text = f"""# zkoracle daemon configuration written by `zkoracle demo`
[chain]
kind = "{chain.kind}"
confirmations = 0
poll_interval = 0.05

[hub]
address = "{hub}"

[account]
key_env = "{OPERATOR_KEY_ENV}"

[gas]
replace_after = 60

[store]
path = "state/oracle.db"

[provers]
workers = 1

{models}
[[feeds]]
id = "0x{FEED_ID.hex()}"
model = "trading-signal"
heartbeat = 3600
deviation_percent = 5
poll_interval = 0.05
[feeds.source]
kind = "csv"
path = "returns.csv"
{extra}"""
    path = work / "oracle.toml"
    path.write_text(text)
    return path


def _write_returns(path: Path, row: np.ndarray) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"r{i}" for i in range(len(row))])
        w.writerow([f"{v:.6f}" for v in row])


class _Waiter:
    """Drives the daemon in this thread (eth-tester is single-threaded) until a condition."""

    def __init__(self, service: Service, step: Say) -> None:
        self.service = service
        self.step = step

    def until(self, what: str, done: Callable[[], bool], timeout: float = WAIT_S) -> float:
        t0 = time.perf_counter()
        while not done():
            if time.perf_counter() - t0 > timeout:
                raise OracleError(f"demo: timed out after {timeout:.0f} s waiting for {what}")
            self.service.tick()
            time.sleep(0.01)
        self.step(f"{what}: done")
        return time.perf_counter() - t0


def _fulfill_gas(chain: Chain, hub: Hub, request_id: int) -> int:
    event = hub.contract.events.InferenceFulfilled()
    logs = event.get_logs(from_block=0, argument_filters={"requestId": request_id})
    for log in only_from(hub.address, logs):
        return int(chain.w3.eth.get_transaction_receipt(log["transactionHash"])["gasUsed"])
    return 0


def _request_and_wait(
    ctx: _DemoContext, what: str, name: str, x: np.ndarray, send: Callable[[list[int]], int]
) -> Outcome:
    _, model_dir, dep = ctx.models[name]
    values = ctx.hub.quantize_inputs(dep.model_id, x.tolist())
    t0 = time.perf_counter()
    request_id = send(values)
    ctx.waiter.until(
        f"request {request_id}",
        lambda: ctx.hub.result(request_id)["status"] is RequestStatus.FULFILLED,
    )
    latency = time.perf_counter() - t0
    onchain = ctx.hub.result(request_id)["outputs"][0] / 2 ** ctx.output_scale[name]
    ref = _float_output(model_dir.parent / f"{name}.onnx", x)
    return Outcome(what, name, onchain, ref, latency, _fulfill_gas(ctx.chain, ctx.hub, request_id))


@dataclass
class _DemoContext:
    chain: Chain
    hub: Hub
    waiter: _Waiter
    models: dict[str, tuple[Fitted, Path, Deployment]]
    output_scale: dict[str, int]


def run_demo(target: str, work: Path, say: Say, step: Say | None = None) -> DemoReport:
    """Run the whole demo on `target` ("embedded", "anvil" or an RPC URL) in `work`;
    `step` hears of each of the `DEMO_STEPS` steps as it ends."""
    from eth_account import Account

    from oracle.accounts import Signer
    from oracle.artifacts import ModelArtifacts

    work.mkdir(parents=True, exist_ok=True)
    advance = step or (lambda _m: None)
    prepared = prepare_models(work, say)
    advance("models ready")
    report = DemoReport()
    with chains.connect(target) as chain:
        say(f"chain: {chain.kind} (chain id {chain.chain_id})")
        risk = deploy_model(chain, prepared["risk-score"][1], progress=lambda m: say(f"  {m}"))
        signal = deploy_model(chain, prepared["trading-signal"][1], risk.hub)
        hub = Hub(chain, risk.hub)
        for dep in (risk, signal):
            hub.attach(dep.model_id, dep.model_dir)
        deps = {"risk-score": risk, "trading-signal": signal}
        account = Account.create()
        os.environ[OPERATOR_KEY_ENV] = account.key.hex()
        operator = Signer(account)
        chain.fund(operator.address, 50 * 10**18)
        operator_key = private.published_key(chain, operator, say)  # before its daemon sends
        # The feed's updater is its creator until handed to the operator's account.
        hub.create_feed(FEED_ID, signal.model_id)
        hub.set_feed_updater(FEED_ID, operator.address)
        pool, vault = _consumers(chain, hub, risk, signal, operator.address)
        onchain = deploy_onchain_feed(chain, hub, signal.model_id)
        report.consumers = {"hub": risk.hub, "RiskGatedLendingPool": pool, "SignalVault": vault,
                            "PriceAggregator (ETH/USD)": onchain.aggregator,
                            "OnchainInputFeeds": onchain.feeds.address,
                            "SignalVault (on-chain inputs)": onchain.vault}  # fmt: skip
        for k, v in report.consumers.items():
            say(f"  {k}: {v}")
        secret, secret_pool = private.deploy(chain, hub, prepared[private.NAME][1], CALLBACK_GAS)
        report.consumers["RiskGatedLendingPool (private)"] = secret_pool
        deps[private.NAME] = secret
        advance("contracts deployed")
        fitted_sig = prepared["trading-signal"][0]
        _write_returns(work / "returns.csv", fitted_sig.samples[0])
        config = load_config(write_config(work, chain, risk.hub, deps, config_section(onchain)))
        service = Service(config, chain=chain, signer=operator)
        service.start()
        say(f"daemon started as {operator.address}; store {config.store_path}")
        advance("daemon started")
        ctx = _DemoContext(
            chain, hub, _Waiter(service, advance),
            {n: (prepared[n][0], prepared[n][1], d) for n, d in deps.items()},
            {n: ModelArtifacts.load(d.model_dir).output_scale for n, d in deps.items()},
        )  # fmt: skip
        try:
            _scenario(ctx, pool, vault, work, report, say)
            report.outcomes.append(_onchain_round(ctx, onchain, say))
            _private_scenario(ctx, secret_pool, operator_key, report, say)
        finally:
            service.close()
        report.proofs = service.metrics.proving_seconds.count
        if report.proofs:
            report.mean_prove_s = service.metrics.proving_seconds.total / report.proofs
    return report


def _scenario(
    ctx: _DemoContext, pool: str, vault: str, work: Path, report: DemoReport, say: Say
) -> None:
    compiled = hub_contracts()
    pool_c = ctx.chain.contract(pool, compiled["RiskGatedLendingPool"])
    vault_c = ctx.chain.contract(vault, compiled["SignalVault"])
    fitted_risk = ctx.models["risk-score"][0]
    # A safe, a middling and a risky borrower from the held-out data.
    order = np.argsort(predict(fitted_risk.layers, fitted_risk.head, fitted_risk.samples))
    picks = [order[0], order[len(order) // 2], order[-1]]
    borrowers = ctx.chain.accounts[1:4]
    for borrower, pick in zip(borrowers, picks, strict=True):
        x = fitted_risk.samples[pick]

        def send(values: list[int], who: str = borrower) -> int:
            receipt = ctx.chain.transact(pool_c.functions.requestScore(values), sender=who)
            return int(ctx.hub.requested_in(receipt)[0]["request_id"])

        out = _request_and_wait(ctx, f"borrower {borrower[:10]}", "risk-score", x, send)
        limit = pool_c.functions.profiles(borrower).call()[0] / 10**18
        say(f"  risk score for {borrower[:10]}: {out.onchain:.5f} -> credit limit {limit:.2f} ETH")
        report.outcomes.append(out)

    def send_signal(values: list[int]) -> int:
        receipt = ctx.chain.transact(vault_c.functions.requestSignal(values))
        return int(ctx.hub.requested_in(receipt)[0]["request_id"])

    sig_samples = ctx.models["trading-signal"][0].samples
    out = _request_and_wait(ctx, "vault keeper", "trading-signal", sig_samples[1], send_signal)
    position = ("flat", "long", "short")[vault_c.functions.position().call()]
    say(f"  trading signal: {out.onchain:+.5f} -> vault position {position}")
    report.outcomes.append(out)
    report.outcomes.append(_feed_round(ctx, work, sig_samples[2], say))


def _private_scenario(
    ctx: _DemoContext, pool: str, operator_key: bytes, report: DemoReport, say: Say
) -> None:
    """A borrower whose features never reach the chain (see `oracle.demo.private`)."""
    fitted, _, dep = ctx.models[private.NAME]
    x = fitted.samples[0]
    borrower = ctx.chain.accounts[4]

    def send(values: list[int]) -> int:
        del values  # sealed below, never posted in the clear
        return private.request(ctx.chain, ctx.hub, dep, pool, x, operator_key, borrower)

    out = _request_and_wait(ctx, f"private {borrower[:10]}", private.NAME, x, send)
    pool_c = ctx.chain.contract(pool, hub_contracts()["RiskGatedLendingPool"])
    limit = pool_c.functions.profiles(borrower).call()[0] / 10**18
    say(
        f"  private risk score for {borrower[:10]}: {out.onchain:.5f} -> credit limit "
        f"{limit:.2f} ETH (features sealed to the operator, weights committed)"
    )
    report.outcomes.append(out)


def _feed_round(ctx: _DemoContext, work: Path, x: np.ndarray, say: Say) -> Outcome:
    """Wait for the feed's first round (from the CSV row written at start), then write a
    new row and wait for the daemon to push the next round."""
    ctx.waiter.until("the first feed round", lambda: ctx.hub.latest(FEED_ID)["round"] >= 1)
    first = ctx.hub.latest(FEED_ID)["round"]
    _write_returns(work / "returns.csv", x)
    t0 = time.perf_counter()
    ctx.waiter.until("the next feed round", lambda: ctx.hub.latest(FEED_ID)["round"] > first)
    latency = time.perf_counter() - t0
    latest = ctx.hub.latest(FEED_ID)
    scale = ctx.output_scale["trading-signal"]
    onchain = latest["outputs"][0] / 2**scale
    ref = _float_output(work / "trading-signal.onnx", x)
    say(f"  feed round {latest['round']}: signal {onchain:+.5f}")
    gas = _feed_gas(ctx)
    return Outcome(f"feed round {latest['round']}", "trading-signal", onchain, ref, latency, gas)


def _onchain_round(ctx: _DemoContext, demo: OnchainDemo, say: Say) -> Outcome:
    """The first round of the on-chain-input feed, and the vault trading on it."""
    t0 = time.perf_counter()
    ctx.waiter.until(
        "the on-chain-input feed round", lambda: ctx.hub.latest(ONCHAIN_FEED_ID)["round"] >= 1
    )
    latency = time.perf_counter() - t0
    vault = ctx.chain.contract(demo.vault, hub_contracts()["SignalVault"])
    ctx.chain.transact(vault.functions.syncFromFeed())
    position = ("flat", "long", "short")[vault.functions.position().call()]
    onchain = (
        ctx.hub.latest(ONCHAIN_FEED_ID)["outputs"][0] / 2 ** ctx.output_scale["trading-signal"]
    )
    ref = _float_output(
        ctx.models["trading-signal"][1].parent / "trading-signal.onnx", np.array(demo.features)
    )
    say(f"  ETH/USD on-chain feed: signal {onchain:+.5f} from the last 8 aggregator rounds "
        f"-> vault position {position}")  # fmt: skip
    logs = ctx.hub.contract.events.FeedUpdated().get_logs(
        from_block=0, argument_filters={"feedId": ONCHAIN_FEED_ID}
    )
    gas = int(ctx.chain.w3.eth.get_transaction_receipt(logs[-1]["transactionHash"])["gasUsed"])
    return Outcome("ETH/USD on-chain round", "trading-signal", onchain, ref, latency, gas)


def _feed_gas(ctx: _DemoContext) -> int:
    event = ctx.hub.contract.events.FeedUpdated()
    logs = only_from(ctx.hub.address, event.get_logs(from_block=0))
    if not logs:
        return 0
    return int(ctx.chain.w3.eth.get_transaction_receipt(logs[-1]["transactionHash"])["gasUsed"])


def format_report(report: DemoReport) -> str:
    rows = [
        f"{'output':<24} {'model':<15} {'on-chain':>10} {'float':>10} {'|err|':>9} "
        f"{'latency':>8} {'gas':>8}"
    ]
    for o in report.outcomes:
        rows.append(
            f"{o.what:<24} {o.model:<15} {o.onchain:>10.5f} {o.float_model:>10.5f} "
            f"{abs(o.onchain - o.float_model):>9.2e} {o.latency_s:>7.2f}s {o.fulfill_gas:>8,}"
        )
    rows.append(
        f"{report.proofs} proofs of 256 bytes each, {report.mean_prove_s * 1000:.0f} ms mean "
        "proving time (native prover, one worker)"
    )
    return "\n".join(rows)
