"""Feeds whose inputs come from on-chain sources (`OnchainInputFeeds`), on both chains.

The contract reads aggregator rounds and view calls in the update's transaction, converts
them to the model's input scale and has the hub verify the proof against those inputs.
Proofs are forged for the statement the Python side computes from the same rounds, so an
accepted update also shows that `oracle.hub.onchain_feeds` and the contract agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from oracle.errors import OracleError, TransactionReverted
from oracle.hub.onchain_feeds import to_fixed_point
from oracle.statement import feed_binding
from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    RISK_PACKED,
    SIGNAL,
    HubEnv,
    ModelCase,
    anvil_only,
    open_env,
)

pytestmark = pytest.mark.xdist_group("hub-onchain-feeds")

PRICES = [5000 + 37 * i - (i % 3) * 410 for i in range(12)]  # 50.00 .. with 2 decimals
HONEST, REVERT, NOT_FINAL, WRONG_ROUND_ID, FUTURE_TIME = range(5)
GAS = 3_000_000


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


@pytest.fixture(scope="module")
def feeds(env: HubEnv) -> Contract:
    return env.chain.deploy("OnchainInputFeeds", env.hub.address)


def _aggregator(env: HubEnv, prices: Sequence[int] = PRICES, decimals: int = 2) -> Contract:
    agg = env.chain.deploy("PriceAggregator", decimals, "ETH / USD", sender=env.owner)
    for p in prices:
        env.chain.send(agg.functions.transmit(p), env.owner)
    return agg


def _declare(env: HubEnv, feeds: Contract, name: str, model: ModelCase, sources: list[Any],
             max_age: int = 3600) -> bytes:  # fmt: skip
    feed_id = keccak(text=f"onchain:{name}:{feeds.address}")
    env.chain.send(feeds.functions.declareFeed(feed_id, env.id(model), max_age, sources), env.other)
    return feed_id


def _proof(env: HubEnv, feeds: Contract, model: ModelCase, feed_id: bytes, inputs: Sequence[int],
           outputs: Sequence[int]) -> list[int]:  # fmt: skip
    round_ = feeds.functions.nextRound(feed_id).call()
    chain_id = env.chain.chain.chain_id
    binding = feed_binding(chain_id, env.hub.address, feed_id, round_, feeds.address)
    return model.forge(model.layout.public_inputs(binding, inputs, outputs))


def _reverts(env: HubEnv, fn: Any, error: str) -> tuple[Any, ...]:
    with pytest.raises(TransactionReverted) as info:
        env.chain.chain.call(fn)
    assert info.value.error_name == error, info.value
    return info.value.error_args


def test_a_window_of_rounds_feeds_the_model_and_anyone_may_update(
    env: HubEnv, feeds: Contract
) -> None:
    agg = _aggregator(env)
    feed_id = _declare(env, feeds, "window", RISK_PACKED, [(agg.address, 8, 0, b"")])
    inputs = [to_fixed_point(p, 2, RISK_PACKED.input_scale) for p in PRICES[9:1:-1]]
    assert feeds.functions.inputsFor(feed_id, [10]).call() == inputs
    proof = _proof(env, feeds, RISK_PACKED, feed_id, inputs, [42])
    receipt = env.chain.send(feeds.functions.update(feed_id, 1, [10], [42], proof), env.requester)
    (event,) = env.chain.events(env.hub, receipt, "FeedUpdated")
    assert list(event["args"]["inputs"]) == inputs and event["args"]["updater"] == feeds.address
    assert env.hub.functions.latest(feed_id).call()[:2] == [[42], 1]
    # A newer round appeared: the proof for round 11's window is for other prices, and a
    # proof for the same window may not go back to older rounds.
    stale_proof = _proof(env, feeds, RISK_PACKED, feed_id, inputs, [43])
    fn = feeds.functions.update(feed_id, 2, [11], [43], stale_proof)
    env.chain.reverts(fn, env.requester, "InvalidProof")
    fn = feeds.functions.update(feed_id, 1, [10], [42], proof)  # replayed: round 1 is taken
    assert _reverts(env, fn, "RoundNotNext") == (feed_id, 1, 2)
    _reverts(env, feeds.functions.inputsFor(feed_id, [9]), "RoundBeforePrevious")


@anvil_only
def test_stale_future_and_missing_rounds_are_refused(env: HubEnv, feeds: Contract) -> None:
    agg = _aggregator(env)
    feed_id = _declare(env, feeds, "stale", RISK_PACKED, [(agg.address, 8, 0, b"")], max_age=600)
    assert _reverts(env, feeds.functions.inputsFor(feed_id, [13]), "SourceReverted") == (0, 13)
    assert _reverts(env, feeds.functions.inputsFor(feed_id, [7]), "RoundUnavailable") == (0, 7)
    assert _reverts(env, feeds.functions.inputsFor(feed_id, [10, 1]), "WrongRoundCount") == (1, 2)
    env.chain.advance(601)
    args = _reverts(env, feeds.functions.inputsFor(feed_id, [12]), "RoundTooOld")
    assert args[:2] == (0, 12) and args[3] == 600
    env.chain.send(agg.functions.transmit(5100), env.owner)  # a fresh round: usable again
    assert len(feeds.functions.inputsFor(feed_id, [13]).call()) == 8


@anvil_only
def test_misbehaving_aggregators_and_view_calls(env: HubEnv, feeds: Contract) -> None:
    flaky = env.chain.deploy("FlakyAggregator")
    value = env.chain.deploy("ValueSource")
    env.chain.send(value.functions.set(-123_456), env.owner)
    call = value.functions.value()._encode_transaction_data()
    sources = [(flaky.address, 3, 0, b""), (value.address, 0, 4, bytes.fromhex(call[2:]))]
    feed_id = _declare(env, feeds, "mixed", SIGNAL, sources)
    scale = SIGNAL.input_scale
    expected = [to_fixed_point(10 * r, 2, scale) for r in (6, 5, 4)]  # newest first
    expected.append(to_fixed_point(-123_456, 4, scale))
    assert feeds.functions.inputsFor(feed_id, [6, 0]).call() == expected
    # Round 5 misbehaves; a reverting aggregator fails on the first read (the newest, 6).
    cases = [(NOT_FINAL, "RoundNotFinal", 5), (WRONG_ROUND_ID, "RoundUnavailable", 5),
             (FUTURE_TIME, "RoundNotFinal", 5), (REVERT, "SourceReverted", 6)]  # fmt: skip
    for mode, error, at in cases:
        env.chain.send(flaky.functions.setMode(mode), env.owner)
        args = _reverts(env, feeds.functions.inputsFor(feed_id, [6, 0]), error)
        assert args[:2] == (0, at), mode
    env.chain.send(flaky.functions.setMode(HONEST), env.owner)
    proof = _proof(env, feeds, SIGNAL, feed_id, expected, [-9])
    env.chain.send(value.functions.set(-133_456), env.owner)  # the value moved: other inputs
    env.chain.reverts(
        feeds.functions.update(feed_id, 1, [6, 0], [-9], proof), env.other, "InvalidProof"
    )
    env.chain.send(value.functions.set(-123_456), env.owner)
    env.chain.send(feeds.functions.update(feed_id, 1, [6, 0], [-9], proof), env.other)
    assert env.hub.functions.latest(feed_id).call()[0] == [-9]


@anvil_only
def test_declarations_are_checked(env: HubEnv, feeds: Contract) -> None:
    agg = _aggregator(env, prices=[1])
    declare = feeds.functions.declareFeed
    fid = keccak(text="bad-decl")
    cases = [([(agg.address, 7, 0, b"")], 60), ([(agg.address, 8, 0, b"")], 0),
             ([(env.other, 8, 0, b"")], 60), ([(agg.address, 8, 0, b"\x01")], 60)]  # fmt: skip
    for sources, age in cases:
        env.chain.reverts(
            declare(fid, env.id(RISK_PACKED), age, sources), env.other, "BadDeclaration"
        )


@anvil_only
@pytest.mark.parametrize("decimals", [0, 2, 8, 18, 77])
@pytest.mark.parametrize("scale", [0, 8, 16, 64])
def test_decimals_conversion_matches_python_at_the_edges(
    env: HubEnv, feeds: Contract, decimals: int, scale: int
) -> None:
    unit = 10**decimals
    limit = 1 << (255 - scale)
    values = [0, 1, -1, unit // 2, -(unit // 2), unit // 2 + 1, unit - 1, unit, -unit,
              3 * unit // 2, -(3 * unit // 2), limit - 1, -(limit - 1)]  # fmt: skip
    convert = feeds.functions.toFixedPoint
    for v in [v for v in values if abs(v) < limit]:  # the convertible ones
        assert convert(v, decimals, scale).call() == to_fixed_point(v, decimals, scale), v
    for v in {min(limit, (1 << 255) - 1), -limit, -(1 << 255)}:
        if v == (1 << 255) - 1 and scale == 0:
            continue  # scale 0 takes every int256 but the minimum
        _reverts(env, convert(v, decimals, scale), "ConversionOverflow")
        with pytest.raises(OracleError):
            to_fixed_point(v, decimals, scale)


def test_python_conversion_rounds_half_away_from_zero() -> None:
    assert [to_fixed_point(v, 1, 0) for v in (4, 5, 6, -4, -5, -6, 15, -15)] == [
        0, 1, 1, 0, -1, -1, 2, -2,
    ]  # fmt: skip
    assert to_fixed_point(12345, 2, 8) == round(123.45 * 256)
