"""Who a model id belongs to, which verifier code stands behind it, and the owner's terms.

On the harness hub (verifiers with known trapdoors; see `hub_harness`): a verifier whose
code changes after registration (a metamorphic contract) is refused, the owner's request
terms are enforced, the example consumers refuse models and feeds they do not pin, the
vault cancels its expired requests, and the Python client ignores look-alike events a
consumer emits from its callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from oracle.hub import Hub, model_id_of
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

INPUTS = [1, -2, 3, -4]
RISK_INPUTS = [1, -2, 3, -4, 5, -6, 7, -8]
FORGE_EVENTS = 7  # TestConsumer.Mode.ForgeEvents


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def runtime_of(env: HubEnv, name: str) -> bytes:
    """The runtime code of test contract `name` (deployed once to read it)."""
    address = env.chain.deploy(name).address
    return bytes(env.chain.w3.eth.get_code(address))


def test_a_verifier_whose_code_changed_is_refused(env: HubEnv) -> None:
    """A metamorphic verifier: registered with code that refuses every proof, destroyed in
    the same transaction, re-created at the same address with code that accepts every
    proof. The hub pinned the first code hash and refuses the second code."""
    factory = env.chain.deploy("MetamorphicFactory")
    honest = runtime_of(env, "DestructibleVerifier")
    accept_all = runtime_of(env, "AcceptAllVerifier")
    salt = keccak(text="morph-model")
    spec = RISK.spec(ZERO)
    receipt = env.chain.send(
        factory.functions.registerThenDestroy(env.hub.address, honest, salt, spec), env.other
    )
    (registered,) = env.chain.events(env.hub, receipt, "ModelRegistered")
    model_id = bytes(registered["args"]["modelId"])
    assert model_id == model_id_of(factory.address, salt)
    record = env.hub.functions.getModel(model_id).call()
    verifier = record[0]
    assert bytes(record[17]) == keccak(honest)
    env.chain.send(factory.functions.create(accept_all), env.other)
    assert bytes(env.chain.w3.eth.get_code(verifier)) == accept_all
    fn = env.hub.functions.request(model_id, RISK_INPUTS, ZERO, 0, 0)
    env.chain.send(fn, env.requester, value=FEE)
    rid = env.hub.functions.requestCount().call()
    fulfill = env.hub.functions.fulfill(rid, [5], [1] * 8)
    assert env.chain.reverts(fulfill, env.other, "VerifierCodeChanged") == (model_id,)
    assert env.hub.functions.result(rid).call()[0] == 1  # still pending


def test_only_the_owner_sets_terms_and_requests_must_meet_them(env: HubEnv) -> None:
    hub, model_id = env.hub.functions, env.id(SIGNAL)
    terms = hub.setModelTerms(model_id, FEE, 200_000)
    assert env.chain.reverts(terms, env.other, "NotModelOwner") == (model_id, env.other)
    receipt = env.chain.send(terms, env.owner)
    (event,) = env.chain.events(env.hub, receipt, "ModelTermsSet")
    assert (event["args"]["minFee"], event["args"]["maxCallbackGas"]) == (FEE, 200_000)
    record = hub.getModel(model_id).call()
    assert (record[18], record[19]) == (FEE, 200_000)
    consumer = env.chain.deploy("TestConsumer", env.hub.address)
    cheap = hub.request(model_id, INPUTS, ZERO, 0, 0)
    assert env.chain.reverts(cheap, env.requester, "FeeBelowModelMinimum", value=FEE - 1) == (
        model_id, FEE - 1, FEE,
    )  # fmt: skip
    greedy = hub.request(model_id, INPUTS, consumer.address, 200_001, 0)
    assert env.chain.reverts(greedy, env.requester, "CallbackGasAboveModelMax", value=FEE) == (
        model_id, 200_001, 200_000,
    )  # fmt: skip
    env.chain.send(hub.request(model_id, INPUTS, consumer.address, 200_000, 0), env.requester, FEE)
    env.chain.send(hub.setModelTerms(model_id, 0, 0), env.owner)  # 0: the hub's maximum
    env.chain.send(hub.request(model_id, INPUTS, consumer.address, 5_000_000, 0), env.requester)


def test_consumers_refuse_models_and_feeds_they_do_not_pin(env: HubEnv) -> None:
    owner, model_id, code_hash = env.pinned(RISK)
    pool_args = (600, 1000, 10**18, 100_000)
    for pins in ((env.other, model_id, code_hash), (owner, model_id, b"\x01" * 32)):
        with pytest.raises(Exception, match="UntrustedModel"):
            env.chain.deploy("RiskGatedLendingPool", env.hub.address, *pins, *pool_args)
    feed_id = keccak(text=f"trust-feed:{env.hub.address}")
    env.chain.send(env.hub.functions.createFeed(feed_id, env.id(SIGNAL)), env.owner)
    vault_args = (50, -50, 300, 150_000)
    with pytest.raises(Exception, match="UntrustedFeed"):
        env.chain.deploy(
            "SignalVault", env.hub.address, *env.pinned(SIGNAL), feed_id, env.other, *vault_args
        )
    vault = env.chain.deploy(
        "SignalVault", env.hub.address, *env.pinned(SIGNAL), feed_id, env.owner, *vault_args
    )
    # The feed's owner hands the feed to another updater: the vault stops reading it.
    env.chain.send(env.hub.functions.setFeedUpdater(feed_id, env.other), env.owner)
    assert env.chain.reverts(vault.functions.syncFromFeed(), env.other, "UntrustedFeed") == (
        feed_id,
    )


def test_the_vault_cancels_its_expired_requests_and_returns_the_fee(env: HubEnv) -> None:
    keeper = env.owner
    vault = env.chain.deploy(
        "SignalVault", env.hub.address, *env.pinned(SIGNAL), b"\x00" * 32, ZERO, 50, -50, 300,
        150_000,
    )  # fmt: skip
    env.chain.send(vault.functions.requestSignal(INPUTS), keeper, value=FEE)
    rid = env.hub.functions.requestCount().call()
    cancel = vault.functions.cancelExpired(rid)
    env.chain.reverts(cancel, env.other, "NotKeeper")
    env.chain.reverts(cancel, keeper, "NotCancellable")
    env.chain.advance(2 * 86_400)
    before = env.chain.balance(keeper)
    receipt = env.chain.send(cancel, keeper)
    assert env.chain.balance(keeper) == before + FEE - env.chain.fee_paid(receipt)
    assert env.chain.balance(vault.address) == 0
    assert env.hub.functions.result(rid).call()[0] == 3  # cancelled
    env.chain.reverts(cancel, keeper, "NotOurRequest")


def _forging_consumer(env: HubEnv) -> tuple[Contract, int]:
    consumer = env.chain.deploy("TestConsumer", env.hub.address)
    env.chain.send(consumer.functions.setMode(FORGE_EVENTS), env.owner)
    ask = consumer.functions.ask(env.id(SIGNAL), INPUTS, 200_000, 0)
    env.chain.send(ask, env.requester, value=FEE)
    return consumer, env.hub.functions.requestCount().call()


@anvil_only
def test_the_client_ignores_look_alike_events_of_a_consumer(env: HubEnv) -> None:
    consumer, rid = _forging_consumer(env)
    client = Hub(env.chain.chain, env.hub.address)
    proof = SIGNAL.forge(SIGNAL.layout.public_inputs(env.binding(rid, env.submitter), INPUTS, [9]))
    done = client.fulfill(rid, [9], proof, sender=env.submitter, gas=1_000_000)
    logs: list[Any] = done.tx.receipt["logs"]
    assert {log["address"] for log in logs} == {env.hub.address, consumer.address}
    assert done.event["outputs"] == [9] and done.event["submitter"] == env.submitter
    assert done.callback_failure is None  # the consumer's forged CallbackFailed is not the hub's
    assert consumer.functions.calls().call() == 1
    # The daemon's watcher reads requests of the hub only, not the consumer's look-alike.
    block = int(done.tx.block_number)
    watcher_hub = Hub(env.chain.w3, env.hub.address)
    assert watcher_hub.request_logs(block, block) == []
    assert len(client.requested_in(done.tx.receipt)) == 0
