"""Push feeds and the two example consumers, on both chains.

Feed proofs are bound to (chain, hub, feed, round, updater); rounds strictly increase and a
stale read reverts. The lending pool and the signal vault act only on values the hub has
verified, for requests they made, and refuse stale ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from oracle.errors import TransactionReverted
from oracle.statement import feed_binding
from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    FEE,
    RISK,
    SIGNAL,
    ZERO,
    HubEnv,
    anvil_only,
    open_env,
)

#: One worker runs this module, so its chains and deployments are made once.
pytestmark = pytest.mark.xdist_group("hub-feeds")

INPUTS = [100, -200, 300, -400]
RISK_INPUTS = [5, 4, 3, 2, 1, 0, -1, -2]
LONG, SHORT, FLAT = 1, 2, 0
ETH = 10**18


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def new_feed(env: HubEnv, name: str) -> bytes:
    feed_id = keccak(text=f"feed:{name}")
    env.chain.send(env.hub.functions.createFeed(feed_id, env.id(SIGNAL)), env.owner)
    return feed_id


def feed_proof(
    env: HubEnv,
    feed_id: bytes,
    round_: int,
    outputs: Sequence[int],
    submitter: str,
    inputs: Sequence[int] = INPUTS,
) -> list[int]:
    binding = feed_binding(env.chain.chain.chain_id, env.hub.address, feed_id, round_, submitter)
    return SIGNAL.forge(SIGNAL.layout.public_inputs(binding, inputs, outputs))


def update_fn(
    env: HubEnv, feed_id: bytes, round_: int, outputs: Sequence[int], proof: list[int]
) -> Any:
    return env.hub.functions.updateFeed(feed_id, INPUTS, list(outputs), round_, proof)


def update(
    env: HubEnv, feed_id: bytes, round_: int, outputs: Sequence[int], sender: str | None = None
) -> Any:
    sender = sender or env.owner
    proof = feed_proof(env, feed_id, round_, outputs, sender)
    return env.chain.send(update_fn(env, feed_id, round_, outputs, proof), sender)


def call_reverts(env: HubEnv, fn: Any, error: str) -> tuple[Any, ...]:
    with pytest.raises(TransactionReverted) as info:
        env.chain.chain.call(fn)
    assert info.value.error_name == error, info.value
    return info.value.error_args


def test_a_feed_publishes_proven_rounds(env: HubEnv) -> None:
    feed_id = new_feed(env, "publish")
    assert list(env.hub.functions.latest(feed_id).call()) == [[], 0, 0]
    call_reverts(env, env.hub.functions.latestNoOlderThan(feed_id, 10**9), "StaleFeed")
    view = env.hub.functions.feedPublicInputs(feed_id, 1, env.owner, INPUTS, [42]).call()
    binding = feed_binding(env.chain.chain.chain_id, env.hub.address, feed_id, 1, env.owner)
    assert view == SIGNAL.layout.public_inputs(binding, INPUTS, [42])
    receipt = update(env, feed_id, 1, [42])
    block_time = env.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert list(env.hub.functions.latest(feed_id).call()) == [[42], 1, block_time]
    (event,) = env.chain.events(env.hub, receipt, "FeedUpdated")
    assert event["args"]["round"] == 1 and list(event["args"]["inputs"]) == INPUTS
    record = env.hub.functions.getFeed(feed_id).call()
    assert list(record) == [env.id(SIGNAL), env.owner, 1, env.owner, block_time]


def test_feed_rounds_are_exactly_the_next_one(env: HubEnv) -> None:
    """A round must be latest + 1: no replay of an old round, no jump (one jump to 2^64 - 1
    on an open feed would freeze it for good)."""
    feed_id = new_feed(env, "rounds")
    for bad in (0, 2, 2**64 - 1):
        proof = feed_proof(env, feed_id, bad, [7], env.owner)
        fn = update_fn(env, feed_id, bad, [7], proof)
        assert env.chain.reverts(fn, env.owner, "RoundNotNext") == (feed_id, bad, 0)
    update(env, feed_id, 1, [7])
    for old in (1, 0):
        proof = feed_proof(env, feed_id, old, [8], env.owner)
        fn = update_fn(env, feed_id, old, [8], proof)
        assert env.chain.reverts(fn, env.owner, "RoundNotNext") == (feed_id, old, 1)
    update(env, feed_id, 2, [8])
    assert env.hub.functions.latest(feed_id).call()[:2] == [[8], 2]


@anvil_only
def test_a_feed_proof_is_bound_to_its_round_statement_and_updater(env: HubEnv) -> None:
    feed_id = new_feed(env, "binding")
    hub, owner = env.hub.functions, env.owner
    update(env, feed_id, 1, [5])
    env.chain.reverts(
        update_fn(env, feed_id, 2, [9], feed_proof(env, feed_id, 1, [9], owner)), owner,
        "InvalidProof",
    )  # fmt: skip
    proof = feed_proof(env, feed_id, 2, [9], owner)
    env.chain.reverts(update_fn(env, feed_id, 2, [10], proof), owner, "InvalidProof")
    changed = feed_proof(env, feed_id, 2, [9], owner, inputs=[101, -200, 300, -400])
    env.chain.reverts(update_fn(env, feed_id, 2, [9], changed), owner, "InvalidProof")
    # An open feed: anyone may post, but only with a proof bound to their own address.
    env.chain.send(hub.setFeedUpdater(feed_id, ZERO), owner)
    env.chain.reverts(update_fn(env, feed_id, 2, [9], proof), env.other, "InvalidProof")
    update(env, feed_id, 2, [9], sender=env.other)
    assert env.hub.functions.latest(feed_id).call()[:2] == [[9], 2]


def test_feed_permissions_and_lookups(env: HubEnv) -> None:
    feed_id = new_feed(env, "permissions")
    hub = env.hub.functions
    proof = feed_proof(env, feed_id, 1, [1], env.other)
    fn = update_fn(env, feed_id, 1, [1], proof)
    assert env.chain.reverts(fn, env.other, "NotFeedUpdater") == (feed_id, env.other)
    set_updater = hub.setFeedUpdater(feed_id, env.other)
    assert env.chain.reverts(set_updater, env.other, "NotFeedOwner") == (feed_id, env.other)
    env.chain.send(set_updater, env.owner)
    env.chain.send(fn, env.other)  # the named updater may post now
    env.chain.reverts(hub.createFeed(feed_id, env.id(SIGNAL)), env.other, "FeedExists")
    env.chain.reverts(hub.createFeed(b"\x07" * 32, b"\x08" * 32), env.other, "UnknownModel")
    call_reverts(env, hub.latest(b"\x09" * 32), "UnknownFeed")


def test_a_stale_feed_read_reverts(env: HubEnv) -> None:
    feed_id = new_feed(env, "stale")
    update(env, feed_id, 1, [3])
    assert env.hub.functions.latestNoOlderThan(feed_id, 100).call()[:2] == [[3], 1]
    env.chain.advance(200)
    updated_at = env.hub.functions.latest(feed_id).call()[2]
    args = call_reverts(env, env.hub.functions.latestNoOlderThan(feed_id, 100), "StaleFeed")
    assert args == (feed_id, updated_at, 100)


# -- SignalVault ---------------------------------------------------------------------------


def _vault(env: HubEnv, feed_id: bytes) -> Contract:
    return env.chain.deploy(
        "SignalVault", env.hub.address, *env.pinned(SIGNAL), feed_id, env.owner, 50, -50,
        300, 150_000,
    )  # fmt: skip


def test_the_vault_follows_a_fresh_feed_and_refuses_a_stale_one(env: HubEnv) -> None:
    feed_id = new_feed(env, "vault")
    vault = _vault(env, feed_id)
    assert vault.functions.position().call() == FLAT
    update(env, feed_id, 1, [80])
    env.chain.send(vault.functions.syncFromFeed(), env.other)
    assert vault.functions.position().call() == LONG
    assert vault.functions.targetExposureBps().call() == 10_000
    env.chain.reverts(vault.functions.syncFromFeed(), env.other, "SignalNotNewer")
    env.chain.advance(2)
    update(env, feed_id, 2, [-60])
    env.chain.send(vault.functions.syncFromFeed(), env.other)
    assert vault.functions.position().call() == SHORT
    env.chain.advance(400)
    env.chain.reverts(vault.functions.syncFromFeed(), env.other, "StaleFeed")
    assert vault.functions.position().call() == SHORT


def test_the_vault_acts_on_callbacks_for_its_own_requests_only(env: HubEnv) -> None:
    feed_id = new_feed(env, "vault-callbacks")
    vault = _vault(env, feed_id)
    keeper = env.owner
    env.chain.reverts(vault.functions.requestSignal(INPUTS), env.other, "NotKeeper", value=FEE)
    env.chain.send(vault.functions.requestSignal(INPUTS), keeper, value=FEE)
    rid = env.hub.functions.requestCount().call()
    proof = SIGNAL.forge(
        SIGNAL.layout.public_inputs(env.binding(rid, env.submitter), INPUTS, [-70])
    )
    receipt = env.fulfill(rid, [-70], proof, env.submitter)
    assert env.chain.events(env.hub, receipt, "CallbackFailed") == []
    assert vault.functions.position().call() == SHORT and vault.functions.signal().call() == -70
    # Someone else's request naming the vault as callback is refused by the vault.
    foreign = env.request(SIGNAL, INPUTS, callback=vault.address, gas_limit=150_000)
    proof = SIGNAL.forge(
        SIGNAL.layout.public_inputs(env.binding(foreign, env.submitter), INPUTS, [90])
    )
    receipt = env.fulfill(foreign, [90], proof, env.submitter)
    (failed,) = env.chain.events(env.hub, receipt, "CallbackFailed")
    assert env.chain.chain.errors.decode(failed["args"]["reason"]) == ("NotOurRequest", (foreign,))
    assert vault.functions.position().call() == SHORT
    direct = vault.functions.onInference(rid, env.id(SIGNAL), [90])
    assert env.chain.reverts(direct, env.other, "NotHub") == (env.other,)


# -- RiskGatedLendingPool -----------------------------------------------------------------


def _pool(env: HubEnv) -> Contract:
    # refuseAtScore 1000, maxCredit 1 ether, scores valid for 600 s, 3 ether of liquidity.
    return env.chain.deploy(
        "RiskGatedLendingPool",
        env.hub.address,
        *env.pinned(RISK),
        600,
        1000,
        ETH,
        100_000,
        value=3 * ETH,
    )


def _score(env: HubEnv, pool: Contract, borrower: str, score: int) -> int:
    env.chain.send(pool.functions.requestScore(RISK_INPUTS), borrower, value=FEE)
    rid = env.hub.functions.requestCount().call()
    proof = env.proof(RISK, rid, RISK_INPUTS, [score], env.submitter)
    receipt = env.fulfill(rid, [score], proof, env.submitter)
    assert env.chain.events(env.hub, receipt, "CallbackFailed") == []
    return int(rid)


def test_the_pool_lends_within_a_fresh_proven_limit(env: HubEnv) -> None:
    pool, borrower = _pool(env), env.chain.accounts[5]
    _score(env, pool, borrower, 250)
    limit = 3 * ETH // 4  # (1000 - 250) / 1000 of 1 ether
    assert pool.functions.profiles(borrower).call()[0] == limit
    before = env.chain.balance(borrower)
    receipt = env.chain.send(pool.functions.borrow(ETH // 2), borrower)
    assert env.chain.balance(borrower) == before + ETH // 2 - env.chain.fee_paid(receipt)
    over = pool.functions.borrow(ETH // 2)
    assert env.chain.reverts(over, borrower, "OverLimit") == (ETH // 2, limit - ETH // 2)
    env.chain.advance(700)
    env.chain.reverts(pool.functions.borrow(1), borrower, "StaleScore")
    env.chain.send(pool.functions.repay(), borrower, value=ETH // 2)
    assert pool.functions.debt(borrower).call() == 0


def test_the_pool_refuses_a_high_risk_score(env: HubEnv) -> None:
    pool, borrower = _pool(env), env.chain.accounts[6]
    _score(env, pool, borrower, 1200)
    assert pool.functions.profiles(borrower).call()[0] == 0
    assert env.chain.reverts(pool.functions.borrow(1), borrower, "CreditRefused") == (borrower,)


def test_the_pool_accepts_callbacks_only_from_the_hub_for_its_requests(env: HubEnv) -> None:
    pool, borrower = _pool(env), env.chain.accounts[7]
    direct = pool.functions.onInference(1, env.id(RISK), [0])
    assert env.chain.reverts(direct, borrower, "NotHub") == (borrower,)
    foreign = env.request(RISK, RISK_INPUTS, callback=pool.address, gas_limit=100_000)
    proof = env.proof(RISK, foreign, RISK_INPUTS, [0], env.submitter)
    receipt = env.fulfill(foreign, [0], proof, env.submitter)
    (failed,) = env.chain.events(env.hub, receipt, "CallbackFailed")
    assert env.chain.chain.errors.decode(failed["args"]["reason"]) == ("NotOurRequest", (foreign,))
    assert list(pool.functions.profiles(env.requester).call()) == [0, 0]


def test_the_pool_passes_a_refund_on_to_the_borrower(env: HubEnv) -> None:
    pool, borrower = _pool(env), env.chain.accounts[8]
    env.chain.send(pool.functions.requestScore(RISK_INPUTS), borrower, value=FEE)
    rid = env.hub.functions.requestCount().call()
    cancel = pool.functions.cancelScoreRequest(rid)
    env.chain.reverts(cancel, env.other, "NotYourRequest")
    env.chain.reverts(cancel, borrower, "NotCancellable")
    env.chain.advance(24 * 3600 + 10)
    before = env.chain.balance(borrower)
    receipt = env.chain.send(cancel, borrower)
    assert env.chain.balance(borrower) == before + FEE - env.chain.fee_paid(receipt)
