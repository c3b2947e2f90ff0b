"""Hub callbacks, re-entrancy, cancellation and the gas of a fulfillment, on both chains.

A consumer can fail, burn its gas, return a huge revert or re-enter the hub: none of it may
block or repeat a fulfillment. The submitter cannot starve the callback either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3.contract import Contract

from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    FEE,
    RISK,
    RISK_PACKED,
    HubEnv,
    ModelCase,
    anvil_only,
    open_env,
)

#: One worker runs this module, so its chains and deployments are made once.
pytestmark = pytest.mark.xdist_group("hub-callbacks")

INPUTS = [10, -20, 30, -40, 50, -60, 70, -80]
OUTPUTS = [-123]
RECORD, REVERT, RETURN_BOMB, BURN_GAS, REENTER_FULFILL, REENTER_CANCEL, REENTER_REQUEST = range(7)
FULFILLED = 2


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def _consumer_request(
    env: HubEnv, mode: int, gas_limit: int = 200_000, expiry: int = 0
) -> tuple[Contract, int]:
    consumer = env.chain.deploy("TestConsumer", env.hub.address)
    env.chain.send(consumer.functions.setMode(mode), env.owner)
    env.chain.send(
        consumer.functions.ask(env.id(RISK), INPUTS, gas_limit, expiry), env.requester, FEE
    )
    return consumer, env.hub.functions.requestCount().call()


def _fulfill(env: HubEnv, rid: int, gas: int = 3_000_000) -> Any:
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)
    return env.fulfill(rid, OUTPUTS, proof, env.submitter, gas=gas)


def _failure(env: HubEnv, receipt: Any, rid: int) -> bytes:
    (event,) = env.chain.events(env.hub, receipt, "CallbackFailed")
    assert event["args"]["requestId"] == rid
    return bytes(event["args"]["reason"])


def test_a_reverting_callback_does_not_block_fulfillment(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, REVERT)
    before = env.chain.balance(env.submitter)
    receipt = _fulfill(env, rid)
    reason = _failure(env, receipt, rid)
    assert env.chain.chain.errors.decode(reason) == ("Refused", (rid,))
    assert env.hub.functions.result(rid).call() == [FULFILLED, OUTPUTS]
    assert env.chain.balance(env.submitter) == before + FEE - env.chain.fee_paid(receipt)
    assert consumer.functions.calls().call() == 0  # its state change was rolled back


def test_a_return_bomb_is_cut_to_256_bytes(env: HubEnv) -> None:
    _, rid = _consumer_request(env, RETURN_BOMB)
    receipt = _fulfill(env, rid)
    assert len(_failure(env, receipt, rid)) == 256  # of the 100 000 bytes it reverted with
    assert env.hub.functions.result(rid).call()[0] == FULFILLED


def test_a_callback_that_burns_its_gas_does_not_block_fulfillment(env: HubEnv) -> None:
    _, rid = _consumer_request(env, BURN_GAS, gas_limit=150_000)
    receipt = _fulfill(env, rid)
    assert _failure(env, receipt, rid) == b""
    assert env.hub.functions.result(rid).call()[0] == FULFILLED
    # The callback took its limit and no more: the whole fulfillment stays bounded.
    assert receipt["gasUsed"] < 400_000 + 150_000


def test_a_submitter_cannot_starve_the_callback(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, RECORD, gas_limit=1_000_000)
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)
    # Enough gas for the proof check but not for the promised callback gas.
    fn = env.hub.functions.fulfill(rid, OUTPUTS, proof)
    available, needed = env.chain.reverts(
        fn, env.submitter, "InsufficientGasForCallback", gas=900_000
    )
    assert available < needed and needed > 1_000_000
    assert env.hub.functions.result(rid).call()[0] == 1
    env.fulfill(rid, OUTPUTS, proof, env.submitter, gas=1_500_000)
    assert consumer.functions.calls().call() == 1


def test_a_callback_cannot_re_enter_fulfill(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, REENTER_FULFILL)
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)
    env.chain.send(consumer.functions.arm(proof), env.owner)
    hub_before = env.chain.balance(env.hub.address)
    receipt = env.fulfill(rid, OUTPUTS, proof, env.submitter)
    assert env.chain.events(env.hub, receipt, "CallbackFailed") == []
    assert env.chain.chain.errors.decode(consumer.functions.reentryError().call()) == (
        "Reentrancy",
        (),
    )
    assert len(env.chain.events(env.hub, receipt, "InferenceFulfilled")) == 1
    assert env.chain.balance(env.hub.address) == hub_before - FEE  # the fee left once
    assert consumer.functions.calls().call() == 1


def test_a_callback_cannot_re_enter_cancel(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, REENTER_CANCEL)
    _fulfill(env, rid)
    assert env.chain.chain.errors.decode(consumer.functions.reentryError().call()) == (
        "Reentrancy",
        (),
    )
    assert env.hub.functions.result(rid).call()[0] == FULFILLED


def test_a_callback_may_place_a_follow_up_request(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, REENTER_REQUEST, gas_limit=1_000_000)
    receipt = _fulfill(env, rid)
    assert env.chain.events(env.hub, receipt, "CallbackFailed") == []
    follow_up = consumer.functions.followUpId().call()
    assert follow_up == rid + 1
    record = env.hub.functions.getRequest(follow_up).call()
    assert record[1] == consumer.address and record[3] == 1


def test_cancel_after_expiry_refunds_the_requester(env: HubEnv) -> None:
    expiry = env.chain.now() + 600
    rid = env.request(RISK, INPUTS, expiry=expiry)
    cancel = env.hub.functions.cancel(rid)
    assert env.chain.reverts(cancel, env.requester, "NotCancellable") == (rid, expiry)
    env.chain.advance(601 + 5)
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)
    fulfill = env.hub.functions.fulfill(rid, OUTPUTS, proof)
    assert env.chain.reverts(fulfill, env.submitter, "RequestExpired") == (rid, expiry)
    assert env.chain.reverts(cancel, env.other, "NotRequester") == (rid, env.other)
    before = env.chain.balance(env.requester)
    receipt = env.chain.send(cancel, env.requester)
    assert env.chain.balance(env.requester) == before + FEE - env.chain.fee_paid(receipt)
    (event,) = env.chain.events(env.hub, receipt, "RequestCancelled")
    assert event["args"]["refund"] == FEE
    assert env.hub.functions.result(rid).call() == [3, []]
    assert env.chain.reverts(cancel, env.requester, "RequestNotPending") == (rid, 3)
    env.chain.reverts(fulfill, env.submitter, "RequestNotPending")


def test_a_contract_requester_gets_its_refund(env: HubEnv) -> None:
    consumer, rid = _consumer_request(env, RECORD, expiry=env.chain.now() + 60)
    env.chain.advance(120)
    before = env.chain.balance(consumer.address)
    env.chain.send(consumer.functions.cancel(rid), env.owner)
    assert env.chain.balance(consumer.address) == before + FEE


# -- gas -----------------------------------------------------------------------------------


def _pool_fulfill_gas(env: HubEnv, model: ModelCase) -> tuple[int, int]:
    """Gas of fulfilling an 8-input, 1-output request, with the lending pool's callback
    (a first score: it writes a fresh slot) and without any callback."""
    pool = env.chain.deploy(
        "RiskGatedLendingPool", env.hub.address, *env.pinned(model), 3600, 1000, 10**18, 100_000
    )
    borrower = env.chain.accounts[4]
    env.chain.send(pool.functions.requestScore(INPUTS), borrower, value=FEE)
    rid = env.hub.functions.requestCount().call()
    proof = env.proof(model, rid, INPUTS, OUTPUTS, env.submitter)
    with_callback = env.fulfill(rid, OUTPUTS, proof, env.submitter, gas=1_000_000)["gasUsed"]
    assert pool.functions.profiles(borrower).call()[0] == 10**18  # score < 0: full credit
    rid = env.request(model, INPUTS)
    proof = env.proof(model, rid, INPUTS, OUTPUTS, env.submitter)
    bare = env.fulfill(rid, OUTPUTS, proof, env.submitter, gas=1_000_000)["gasUsed"]
    return int(with_callback), int(bare)


@anvil_only
@pytest.mark.parametrize(
    ("model", "bound_with_callback"),
    [(RISK_PACKED, 300_000), (RISK, 360_000)],
    ids=["packed-3-public-inputs", "unpacked-10-public-inputs"],
)
def test_gas_of_fulfilling_8_inputs_1_output(
    env: HubEnv, model: ModelCase, bound_with_callback: int, record_property: Any
) -> None:
    with_callback, bare = _pool_fulfill_gas(env, model)
    record_property(f"gas_fulfill_{model.name}_with_callback", with_callback)
    record_property(f"gas_fulfill_{model.name}_no_callback", bare)
    print(
        f"\n{env.chain.name} {model.name} (n_public={model.layout.n_public}): "
        f"fulfill {with_callback} gas with the lending-pool callback, {bare} without"
    )
    assert bare < with_callback < bound_with_callback
