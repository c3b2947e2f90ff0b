"""The demo's scenarios: borrowers, a keeper, a push feed, an on-chain-input feed and a
private borrower ask for inferences; each waits until the daemon has proved and posted it
and is compared with the float model's output.

The daemon runs in this thread (`Waiter` ticks it: the embedded chain is
single-threaded); every wait is bounded and names what it waited for when it times out.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from eth_utils.crypto import keccak

from oracle.chain import Chain
from oracle.daemon.service import Service
from oracle.demo import private
from oracle.demo.onchain_feed import ONCHAIN_FEED_ID, OnchainDemo
from oracle.demo.training import Fitted, predict
from oracle.errors import OracleError
from oracle.hub import Deployment, Hub, RequestStatus, hub_contracts, only_from

Say = Callable[[str], None]

FEED_ID = keccak(text="zkoracle-demo:signal-feed")
WAIT_S = 300.0


@dataclass
class Outcome:
    """One verified output as the demo saw it."""

    what: str
    model: str
    onchain: float
    float_model: float
    latency_s: float
    fulfill_gas: int


def _float_output(onnx_path: Path, x: np.ndarray) -> float:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"x": x.reshape(1, -1).astype(np.float32)})
    return float(np.asarray(out).reshape(-1)[0])


def write_returns(path: Path, row: np.ndarray) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"r{i}" for i in range(len(row))])
        w.writerow([f"{v:.6f}" for v in row])


class Waiter:
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
    ctx: DemoContext, what: str, name: str, x: np.ndarray, send: Callable[[list[int]], int]
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
class DemoContext:
    chain: Chain
    hub: Hub
    waiter: Waiter
    models: dict[str, tuple[Fitted, Path, Deployment]]
    output_scale: dict[str, int]


def public_scenario(ctx: DemoContext, pool: str, vault: str, work: Path, say: Say) -> list[Outcome]:
    """Three borrowers ask the pool for credit, the vault's keeper for a signal, and the
    push feed gets a new row."""
    outcomes = []
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
        outcomes.append(out)

    def send_signal(values: list[int]) -> int:
        receipt = ctx.chain.transact(vault_c.functions.requestSignal(values))
        return int(ctx.hub.requested_in(receipt)[0]["request_id"])

    sig_samples = ctx.models["trading-signal"][0].samples
    out = _request_and_wait(ctx, "vault keeper", "trading-signal", sig_samples[1], send_signal)
    position = ("flat", "long", "short")[vault_c.functions.position().call()]
    say(f"  trading signal: {out.onchain:+.5f} -> vault position {position}")
    return [*outcomes, out, _feed_round(ctx, work, sig_samples[2], say)]


def private_scenario(ctx: DemoContext, pool: str, operator_key: bytes, say: Say) -> Outcome:
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
    return out


def _feed_round(ctx: DemoContext, work: Path, x: np.ndarray, say: Say) -> Outcome:
    """Wait for the feed's first round (from the CSV row written at start), then write a
    new row and wait for the daemon to push the next round."""
    ctx.waiter.until("the first feed round", lambda: ctx.hub.latest(FEED_ID)["round"] >= 1)
    first = ctx.hub.latest(FEED_ID)["round"]
    write_returns(work / "returns.csv", x)
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


def onchain_round(ctx: DemoContext, demo: OnchainDemo, say: Say) -> Outcome:
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


def _feed_gas(ctx: DemoContext) -> int:
    event = ctx.hub.contract.events.FeedUpdated()
    logs = only_from(ctx.hub.address, event.get_logs(from_block=0))
    if not logs:
        return 0
    return int(ctx.chain.w3.eth.get_transaction_receipt(logs[-1]["transactionHash"])["gasUsed"])
