"""`fulfillBatch`: n requests of one model answered in one transaction with one batch check.

Proofs are forged with the verifier key's trapdoor for statements built by `oracle.statement`
and checked by the real rendered `verifyBatch`. Every case compares the batch with what n
single fulfillments would leave: statuses, outputs, events, fees and callbacks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from eth_utils.crypto import keccak

from circuits.solidity import MAX_CODE_SIZE
from oracle.hub import model_id_of
from oracle.statement import feed_binding
from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    FEE,
    RISK,
    RISK_PACKED,
    SIGNAL,
    ZERO,
    HubEnv,
    anvil_only,
    compiled,
    open_env,
)

pytestmark = pytest.mark.xdist_group("hub-batch")

INPUTS = [1, -2, 3, -4, 5, -6, 7, -8]
PENDING, FULFILLED, CANCELLED = 1, 2, 3
NOT_PENDING, EXPIRED, MODEL_RETIRED, OTHER_MODEL = range(4)
RECORD, REVERT, REENTER_FULFILL = 0, 1, 4
GAS = 6_000_000


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def _outputs(rid: int) -> list[int]:
    return [rid % 1000 * 7 - 100]


def _items(env: HubEnv, rids: Sequence[int], model: Any = RISK_PACKED) -> tuple[list[Any], ...]:
    outputs = [_outputs(r) for r in rids]
    proofs = [
        env.proof(model, r, INPUTS, o, env.submitter) for r, o in zip(rids, outputs, strict=True)
    ]
    return list(rids), outputs, proofs


def _send_batch(env: HubEnv, rids: Sequence[int], model: Any = RISK_PACKED, **kw: Any) -> Any:
    ids, outputs, proofs = _items(env, rids, model)
    fn = env.hub.functions.fulfillBatch(env.id(model), ids, outputs, proofs)
    return env.chain.send(fn, env.submitter, gas=kw.get("gas", GAS))


def _skipped(env: HubEnv, receipt: Any) -> list[tuple[int, int]]:
    events = env.chain.events(env.hub, receipt, "RequestSkipped")
    return [(e["args"]["requestId"], e["args"]["reason"]) for e in events]


def test_a_batch_fulfills_like_single_fulfillments(env: HubEnv) -> None:
    rids = [env.request(RISK_PACKED, INPUTS) for _ in range(3)]
    before = env.chain.balance(env.submitter)
    receipt = _send_batch(env, rids)
    events = env.chain.events(env.hub, receipt, "InferenceFulfilled")
    assert [(e["args"]["requestId"], list(e["args"]["outputs"])) for e in events] == [
        (r, _outputs(r)) for r in rids
    ]
    assert all(e["args"]["submitter"] == env.submitter for e in events)
    for r in rids:
        assert env.hub.functions.result(r).call() == [FULFILLED, _outputs(r)]
    assert env.chain.balance(env.submitter) == before + 3 * FEE - env.chain.fee_paid(receipt)
    assert _skipped(env, receipt) == []


@anvil_only
def test_requests_no_longer_pending_are_skipped_and_the_rest_fulfilled(env: HubEnv) -> None:
    now = env.chain.now()
    done, cancelled, expiring, ok1, ok2 = (
        env.request(RISK_PACKED, INPUTS, expiry=now + 100 if i in (1, 2) else 0) for i in range(5)
    )
    other_model = env.request(RISK, INPUTS)
    _send_batch(env, [done])  # fulfilled before the batch lands
    env.chain.advance(200)
    env.chain.send(env.hub.functions.cancel(cancelled), env.requester)
    before = env.chain.balance(env.submitter)
    rids = [ok1, done, cancelled, expiring, ok1, other_model, ok2, 10**9]
    ids, outputs, proofs = _items(env, rids)
    fn = env.hub.functions.fulfillBatch(env.id(RISK_PACKED), ids, outputs, proofs)
    assert fn.call({"from": env.submitter, "gas": GAS}) == 2
    receipt = env.chain.send(fn, env.submitter, gas=GAS)
    assert _skipped(env, receipt) == [
        (done, NOT_PENDING),
        (cancelled, NOT_PENDING),
        (expiring, EXPIRED),
        (ok1, NOT_PENDING),  # listed twice: the second is no longer pending
        (other_model, OTHER_MODEL),
        (10**9, NOT_PENDING),
    ]
    fulfilled = env.chain.events(env.hub, receipt, "InferenceFulfilled")
    assert [e["args"]["requestId"] for e in fulfilled] == [ok1, ok2]
    assert env.chain.balance(env.submitter) == before + 2 * FEE - env.chain.fee_paid(receipt)
    assert env.hub.functions.result(expiring).call()[0] == PENDING
    assert env.hub.functions.result(other_model).call()[0] == PENDING


@anvil_only
def test_one_bad_proof_reverts_the_whole_batch(env: HubEnv) -> None:
    rids = [env.request(RISK_PACKED, INPUTS) for _ in range(3)]
    ids, outputs, proofs = _items(env, rids)
    outputs[1] = [outputs[1][0] + 1]  # the proof was made for the other output
    fn = env.hub.functions.fulfillBatch(env.id(RISK_PACKED), ids, outputs, proofs)
    env.chain.reverts(fn, env.submitter, "InvalidProof", gas=GAS)
    swapped = env.hub.functions.fulfillBatch(
        env.id(RISK_PACKED), ids, _items(env, rids)[1], [proofs[1], proofs[0], proofs[2]]
    )
    env.chain.reverts(swapped, env.submitter, "InvalidProof", gas=GAS)
    for r in rids:
        assert env.hub.functions.result(r).call()[0] == PENDING
    # A proof made for another submitter (copied from the mempool) fails too.
    fn = env.hub.functions.fulfillBatch(env.id(RISK_PACKED), ids, *_items(env, rids)[1:])
    env.chain.reverts(fn, env.other, "InvalidProof", gas=GAS)


@anvil_only
def test_shape_errors_and_a_single_survivor(env: HubEnv) -> None:
    rid = env.request(RISK_PACKED, INPUTS)
    ids, outputs, proofs = _items(env, [rid])
    fn = env.hub.functions.fulfillBatch
    env.chain.reverts(fn(env.id(RISK_PACKED), [], [], []), env.submitter, "BatchLengthMismatch")
    env.chain.reverts(
        fn(env.id(RISK_PACKED), ids * 2, outputs, proofs), env.submitter, "BatchLengthMismatch"
    )
    env.chain.reverts(
        fn(env.id(RISK_PACKED), ids, [[1, 2]], proofs), env.submitter, "WrongOutputCount"
    )
    env.chain.reverts(fn(b"\x07" * 32, ids, outputs, proofs), env.submitter, "UnknownModel")
    # One request listed twice: one fulfillment (through verifyProof), one skip.
    receipt = _send_batch(env, [rid, rid])
    assert _skipped(env, receipt) == [(rid, NOT_PENDING)]
    assert env.hub.functions.result(rid).call() == [FULFILLED, _outputs(rid)]


@anvil_only
def test_a_retired_model_skips_every_request(env: HubEnv) -> None:
    salt = keccak(text=f"batch-retire:{env.hub.address}")
    verifier = env.verifiers[RISK_PACKED.layout.n_public].address
    env.chain.send(env.hub.functions.registerModel(salt, RISK_PACKED.spec(verifier)), env.owner)
    model_id = model_id_of(env.owner, salt)
    fn = env.hub.functions.request(model_id, INPUTS, "0x" + "00" * 20, 0, 0)
    receipt = env.chain.send(fn, env.requester, value=FEE)
    rid = env.chain.events(env.hub, receipt, "InferenceRequested")[0]["args"]["requestId"]
    env.chain.send(env.hub.functions.retireModel(model_id), env.owner)
    ids, outputs, proofs = _items(env, [rid])
    receipt = env.chain.send(
        env.hub.functions.fulfillBatch(model_id, ids, outputs, proofs), env.submitter, gas=GAS
    )
    assert _skipped(env, receipt) == [(rid, MODEL_RETIRED)]
    assert env.hub.functions.result(rid).call()[0] == PENDING


@anvil_only
def test_callbacks_cannot_block_or_re_enter_a_batch(env: HubEnv) -> None:
    consumers, rids = [], []
    for mode in (RECORD, REVERT, REENTER_FULFILL):
        consumer = env.chain.deploy("TestConsumer", env.hub.address)
        env.chain.send(consumer.functions.setMode(mode), env.owner)
        ask = consumer.functions.ask(env.id(RISK_PACKED), INPUTS, 200_000, 0)
        env.chain.send(ask, env.requester, FEE)
        consumers.append(consumer)
        rids.append(env.hub.functions.requestCount().call())
    ids, outputs, proofs = _items(env, rids)
    env.chain.send(consumers[2].functions.arm(proofs[2]), env.owner)
    hub_before = env.chain.balance(env.hub.address)
    fn = env.hub.functions.fulfillBatch(env.id(RISK_PACKED), ids, outputs, proofs)
    receipt = env.chain.send(fn, env.submitter, gas=GAS)
    failed = env.chain.events(env.hub, receipt, "CallbackFailed")
    assert [e["args"]["requestId"] for e in failed] == [rids[1]]
    decoded = env.chain.chain.errors.decode(consumers[2].functions.reentryError().call())
    assert decoded == ("Reentrancy", ())
    assert consumers[0].functions.lastOutputs().call() == outputs[0]
    assert env.chain.balance(env.hub.address) == hub_before - 3 * FEE
    for r, o in zip(rids, outputs, strict=True):
        assert env.hub.functions.result(r).call() == [FULFILLED, o]


# -- feeds -------------------------------------------------------------------------------

FEED_INPUTS = [100, -200, 300, -400]
ROUND_NOT_ACCEPTED, UNKNOWN_FEED, NOT_UPDATER, FEED_OTHER_MODEL = range(4)


def _feed(env: HubEnv, name: str, model: Any = SIGNAL, anyone: bool = False) -> bytes:
    feed_id = keccak(text=f"batch-feed:{name}:{env.hub.address}")
    env.chain.send(env.hub.functions.createFeed(feed_id, env.id(model)), env.owner)
    if anyone:
        env.chain.send(env.hub.functions.setFeedUpdater(feed_id, ZERO), env.owner)
    return feed_id


def _round(env: HubEnv, feed_id: bytes, round_: int, out: int, sender: str) -> tuple[Any, Any]:
    binding = feed_binding(env.chain.chain.chain_id, env.hub.address, feed_id, round_, sender)
    proof = SIGNAL.forge(SIGNAL.layout.public_inputs(binding, FEED_INPUTS, [out]))
    return (feed_id, round_, FEED_INPUTS, [out]), proof


@anvil_only
def test_a_feed_batch_publishes_rounds_in_order_and_skips_refused_ones(env: HubEnv) -> None:
    sender = env.submitter
    a, b = _feed(env, "a", anyone=True), _feed(env, "b", anyone=True)
    owned, other = _feed(env, "owned"), _feed(env, "risk", model=RISK, anyone=True)
    items = [
        _round(env, a, 1, 11, sender),
        _round(env, b, 1, 55, sender),
        _round(env, a, 1, 12, sender),  # round 1 was just posted: refused
        _round(env, a, 2, 22, sender),
        _round(env, b, 5, 56, sender),  # not the next round: refused (no jump ahead)
        _round(env, owned, 1, 1, sender),  # only the owner may post
        _round(env, keccak(text="nope"), 1, 1, sender),
        _round(env, other, 1, 1, sender),
    ]
    fn = env.hub.functions.updateFeedBatch(
        env.id(SIGNAL), [r for r, _ in items], [p for _, p in items]
    )
    assert fn.call({"from": sender, "gas": GAS}) == 3
    receipt = env.chain.send(fn, sender, gas=GAS)
    skipped = env.chain.events(env.hub, receipt, "FeedRoundSkipped")
    assert [(e["args"]["round"], e["args"]["reason"]) for e in skipped] == [
        (1, ROUND_NOT_ACCEPTED),
        (5, ROUND_NOT_ACCEPTED),
        (1, NOT_UPDATER),
        (1, UNKNOWN_FEED),
        (1, FEED_OTHER_MODEL),
    ]
    updated = env.chain.events(env.hub, receipt, "FeedUpdated")
    assert [(e["args"]["feedId"], e["args"]["round"]) for e in updated] == [(a, 1), (b, 1), (a, 2)]
    assert env.hub.functions.latest(a).call()[:2] == [[22], 2]
    assert env.hub.functions.latest(b).call()[:2] == [[55], 1]
    # A bad proof reverts every round of the batch.
    good, bad = _round(env, a, 3, 33, sender), _round(env, b, 2, 66, sender)
    rounds = [good[0], (b, 2, FEED_INPUTS, [67])]
    fn = env.hub.functions.updateFeedBatch(env.id(SIGNAL), rounds, [good[1], bad[1]])
    env.chain.reverts(fn, sender, "InvalidProof", gas=GAS)
    assert env.hub.functions.latest(a).call()[1] == 2


def test_the_hub_and_the_onchain_feeds_contract_fit_eip_170() -> None:
    sizes = {name: compiled()[name].deployed_size for name in ("ZkOracle", "OnchainInputFeeds")}
    assert all(0 < size < MAX_CODE_SIZE for size in sizes.values()), sizes
