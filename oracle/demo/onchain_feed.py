"""The demo's feed without trusted inputs: a vault trading on the last 8 rounds of an
on-chain ETH/USD aggregator.

The demo deploys a `PriceAggregator` (the AggregatorV3Interface read side, 8 decimals) and
feeds it from a generated ETH/USD price path: each round carries the round's scaled return
``50 * (p_t / p_{t-1} - 1)``, the feature the trading-signal model was fitted on. An
`OnchainInputFeeds` feed of the signal model reads the newest 8 rounds of that aggregator
(newest first, as the model's windows are); the daemon proves from the same rounds and the
contract reads them again when the round is posted. A second `SignalVault` sets its
position from that feed: no account chooses its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eth_utils.crypto import keccak

from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub import Hub, deploy_contract, hub_contracts
from oracle.hub.onchain_feeds import AggregatorWindow, OnchainFeeds

ONCHAIN_FEED_ID = keccak(text="zkoracle-demo:eth-usd-onchain-signal")
DECIMALS = 8
WINDOW = 8
MAX_INPUT_AGE = 3600
#: The feature the signal model takes: returns scaled by 50, clipped to [-4, 4].
RETURN_SCALE = 50.0


@dataclass(frozen=True)
class OnchainDemo:
    aggregator: str
    feeds: OnchainFeeds
    vault: str
    features: list[float]  # the newest WINDOW round answers as reals, newest first


def price_path(n: int, seed: int = 11) -> np.ndarray:
    """ETH/USD closes: an AR(2) return process (the one the signal model learnt) from 3000."""
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    noise = rng.normal(0.0, 0.01, n)
    for t in range(2, n):
        r[t] = 0.35 * r[t - 1] - 0.2 * r[t - 2] + noise[t]
    return 3000.0 * np.cumprod(1.0 + r)


def _answers(prices: np.ndarray) -> list[int]:
    scaled = np.clip(RETURN_SCALE * (prices[1:] / prices[:-1] - 1.0), -4.0, 4.0)
    return [round(float(v) * 10**DECIMALS) for v in scaled]


def deploy_onchain_feed(chain: Chain, hub: Hub, signal_model: bytes) -> OnchainDemo:
    """Aggregator fed from the price path, the on-chain-input feed and its vault."""
    compiled = hub_contracts()
    aggregator, _ = deploy_contract(
        chain, compiled["PriceAggregator"], DECIMALS, "ETH / USD scaled return"
    )
    agg = chain.contract(aggregator, compiled["PriceAggregator"])
    answers = _answers(price_path(WINDOW + 5))
    for answer in answers:
        chain.transact(agg.functions.transmit(answer))
    feeds = OnchainFeeds.deploy(chain, hub.address)
    feeds.declare(
        ONCHAIN_FEED_ID, signal_model, MAX_INPUT_AGE, [AggregatorWindow(aggregator, WINDOW)]
    )
    long_at, short_at = 1 << 13, -(1 << 13)
    model = hub.model(signal_model)
    if model is None:
        raise OracleError(f"model 0x{signal_model.hex()} is not registered on {hub.address}")
    # The vault pins the model (owner, id, verifier code) and the feed's updater: here the
    # OnchainInputFeeds contract, which reads the inputs itself.
    vault, _ = deploy_contract(
        chain, compiled["SignalVault"], hub.address, model["owner"], signal_model,
        model["verifier_code_hash"], ONCHAIN_FEED_ID, feeds.address, long_at, short_at,
        MAX_INPUT_AGE, 0,
    )  # fmt: skip
    newest = [a / 10**DECIMALS for a in answers[::-1][:WINDOW]]
    return OnchainDemo(aggregator, feeds, vault, newest)


def config_section(demo: OnchainDemo) -> str:
    """The daemon's [[feeds]] entry for the on-chain-input feed."""
    return f"""
[[feeds]]
id = "0x{ONCHAIN_FEED_ID.hex()}"
model = "trading-signal"
heartbeat = 3600
deviation_percent = 5
poll_interval = 0.05
[feeds.source]
kind = "onchain"
address = "{demo.feeds.address}"
"""
