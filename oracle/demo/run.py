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
   verifies every proof before the consumers see a value (`oracle.demo.scenarios`).
6. Print each verified output next to the float model's, with proving time, end-to-end
   latency and gas per fulfillment.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from circuits import compile_model, save_mlp, setup
from oracle import chain as chains
from oracle.chain import Chain
from oracle.daemon.config import load_config
from oracle.daemon.service import Service
from oracle.demo import private
from oracle.demo.onchain_feed import config_section, deploy_onchain_feed
from oracle.demo.scenarios import (
    FEED_ID,
    DemoContext,
    Outcome,
    Say,
    Waiter,
    onchain_round,
    private_scenario,
    public_scenario,
    write_returns,
)
from oracle.demo.training import Fitted, fit_demo_models
from oracle.errors import OracleError
from oracle.hub import Deployment, Hub, deploy_contract, deploy_model, hub_contracts

CALLBACK_GAS = 120_000
#: Environment variable the demo's daemon reads its operator key from (this process only).
OPERATOR_KEY_ENV = "ZKORACLE_DEMO_OPERATOR_KEY"
#: Steps `run_demo` reports to its `step` callback: models ready, contracts deployed, daemon
#: started, then each of the eight waits (three borrowers, the vault, two feed rounds, the
#: feed with on-chain inputs, the private borrower).
DEMO_STEPS = 11


@dataclass
class DemoReport:
    outcomes: list[Outcome] = field(default_factory=list)
    proofs: int = 0
    mean_prove_s: float = 0.0
    consumers: dict[str, str] = field(default_factory=dict)
    models: dict[str, dict[str, float | int | str]] = field(default_factory=dict)


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


def run_demo(target: str, work: Path, say: Say, step: Say | None = None) -> DemoReport:
    """Run the whole demo on `target` ("embedded", "anvil" or an RPC URL) in `work`;
    `step` hears of each of the `DEMO_STEPS` steps as it ends."""
    from eth_account import Account

    from oracle.accounts import Signer
    from oracle.hub import ModelArtifacts

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
        write_returns(work / "returns.csv", fitted_sig.samples[0])
        config = load_config(write_config(work, chain, risk.hub, deps, config_section(onchain)))
        service = Service(config, chain=chain, signer=operator)
        service.start()
        say(f"daemon started as {operator.address}; store {config.store_path}")
        advance("daemon started")
        ctx = DemoContext(
            chain, hub, Waiter(service, advance),
            {n: (prepared[n][0], prepared[n][1], d) for n, d in deps.items()},
            {n: ModelArtifacts.load(d.model_dir).output_scale for n, d in deps.items()},
        )  # fmt: skip
        try:
            report.outcomes += public_scenario(ctx, pool, vault, work, say)
            report.outcomes.append(onchain_round(ctx, onchain, say))
            report.outcomes.append(private_scenario(ctx, secret_pool, operator_key, say))
        finally:
            service.close()
        report.proofs = service.metrics.proving_seconds.count
        if report.proofs:
            report.mean_prove_s = service.metrics.proving_seconds.total / report.proofs
    return report


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
