"""The hub contract on both chains: registry, requests, fulfillment, callbacks, cancellation.

Every proof is checked by a real rendered verifier; valid proofs are forged with the
verifier key's trapdoor for public inputs built by `oracle.statement`, so a proof the hub
accepts also shows that the Python statement matches the contract's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from circuits import MAX_PUBLIC_INPUTS, R
from oracle.hub import CONTRACTS_DIR, model_id_of
from oracle.statement import verifier_selector
from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    FEE,
    MIXED,
    RISK,
    RISK_PACKED,
    ZERO,
    HubEnv,
    anvil_only,
    open_env,
)

#: One worker runs this module, so its chains and deployments are made once.
pytestmark = pytest.mark.xdist_group("hub-contracts")

INPUTS = [1, -2, 3, -4, 5, -6, 7, -(2**15)]
OUTPUTS = [300]
PENDING, FULFILLED, CANCELLED = 1, 2, 3
INPUT_SIDE, OUTPUT_SIDE = 0, 1


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def fresh_model(env: HubEnv, name: str) -> bytes:
    """Register a copy of RISK under a new id (for tests that retire it)."""
    from eth_utils.crypto import keccak

    salt = keccak(text=f"{name}:{env.chain.now()}:{env.hub.address}")
    verifier = env.verifiers[RISK.layout.n_public].address
    env.chain.send(env.hub.functions.registerModel(salt, RISK.spec(verifier)), env.owner)
    return model_id_of(env.owner, salt)


# -- registry ----------------------------------------------------------------------------


def test_registered_model_has_the_declared_layout_and_selector(env: HubEnv) -> None:
    for model in (RISK, RISK_PACKED, MIXED):
        m = list(env.hub.functions.getModel(env.id(model)).call())
        verifier = env.verifiers[model.layout.n_public].address
        assert m[0] == verifier
        assert m[1] == verifier_selector(model.layout.n_public)
        assert m[2:4] == [model.layout.n_inputs, model.layout.n_outputs]
        lay = model.layout
        assert m[4:8] == [lay.inputs.per_word, lay.outputs.bits, lay.outputs.per_word, False]
        assert m[8] == env.owner
        assert m[9:13] == [model.layout.inputs.bits, 8, 8, model.layout.n_public]


def test_registration_rejects_bad_models(env: HubEnv) -> None:
    hub, verifier = env.hub, env.verifiers[RISK.layout.n_public].address
    spec = list(RISK.spec(verifier))
    register = hub.functions.registerModel
    taken = env.chain.reverts(register(RISK.salt, spec), env.owner, "ModelExists")
    assert taken == (env.id(RISK),)
    new_id = b"\x01" * 32
    no_code = [env.other, *spec[1:]]
    assert env.chain.reverts(register(new_id, no_code), env.other, "NoVerifierCode") == (env.other,)
    for i, bad in ((4, 0), (6, 0), (7, 0), (6, 254), (7, 17), (9, 254)):
        broken = spec.copy()
        broken[i] = bad
        env.chain.reverts(register(new_id, broken), env.other, "BadModelShape")


def test_registration_takes_at_most_the_shared_public_input_limit(env: HubEnv) -> None:
    """The hub's limit is the renderer's and the statement's (`circuits.MAX_PUBLIC_INPUTS`):
    one public input more is refused, exactly the limit is registered."""
    source = (CONTRACTS_DIR / "IGroth16Verifier.sol").read_text()
    (declared,) = re.findall(r"uint256 internal constant MAX_PUBLIC_INPUTS = (\d+);", source)
    assert int(declared) == MAX_PUBLIC_INPUTS
    spec = list(RISK.spec(env.verifiers[RISK.layout.n_public].address))
    output_words = -(-spec[5] // spec[9])
    register = env.hub.functions.registerModel
    for extra, ok in ((1, False), (0, True)):
        wide = spec.copy()
        wide[4], wide[7] = MAX_PUBLIC_INPUTS - 1 - output_words + extra, 1  # one input a word
        salt = bytes([0x51 + extra]) * 32
        if ok:
            env.chain.send(register(salt, wide), env.other)
            assert env.hub.functions.getModel(model_id_of(env.other, salt)).call()[12] == (
                MAX_PUBLIC_INPUTS
            )
        else:
            env.chain.reverts(register(salt, wide), env.other, "BadModelShape")


def test_only_the_owner_retires_and_retired_models_take_nothing(env: HubEnv) -> None:
    model_id = fresh_model(env, "retire")
    fn = env.hub.functions.request(model_id, INPUTS, ZERO, 0, 0)
    env.chain.send(fn, env.requester, value=FEE)
    request_id = env.hub.functions.requestCount().call()
    proof = env.proof(RISK, request_id, INPUTS, OUTPUTS, env.submitter)
    env.chain.reverts(env.hub.functions.retireModel(model_id), env.other, "NotModelOwner")
    receipt = env.chain.send(env.hub.functions.retireModel(model_id), env.owner)
    assert env.chain.events(env.hub, receipt, "ModelRetired")[0]["args"]["modelId"] == model_id
    env.chain.reverts(fn, env.requester, "ModelIsRetired", value=FEE)
    fulfill = env.hub.functions.fulfill(request_id, OUTPUTS, proof)
    env.chain.reverts(fulfill, env.submitter, "ModelIsRetired")
    # A retired model's pending request can be cancelled at once.
    env.chain.send(env.hub.functions.cancel(request_id), env.requester)
    assert env.hub.functions.result(request_id).call()[0] == CANCELLED


# -- requests ------------------------------------------------------------------------------


def test_request_escrows_the_fee_and_records_everything(env: HubEnv) -> None:
    before = env.chain.balance(env.hub.address)
    fn = env.hub.functions.request(env.id(RISK), INPUTS, ZERO, 0, 0)
    receipt = env.chain.send(fn, env.requester, value=FEE)
    (event,) = env.chain.events(env.hub, receipt, "InferenceRequested")
    args = event["args"]
    block_time = env.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert args["modelId"] == env.id(RISK) and args["requester"] == env.requester
    assert list(args["inputs"]) == INPUTS and args["fee"] == FEE
    assert args["expiry"] == block_time + 24 * 3600
    assert env.chain.balance(env.hub.address) == before + FEE
    rid = args["requestId"]
    assert rid == env.hub.functions.requestCount().call()
    record = list(env.hub.functions.getRequest(rid).call())
    assert record == [env.id(RISK), env.requester, FEE, PENDING, ZERO, 0, args["expiry"]]
    assert env.hub.functions.result(rid).call() == [PENDING, []]
    expected_words = RISK.layout.inputs.encode(INPUTS)
    assert env.hub.functions.requestInputWords(rid).call() == expected_words


def test_request_checks_inputs_and_parameters(env: HubEnv) -> None:
    hub, chain, who = env.hub, env.chain, env.requester

    def req(inputs: list[int], callback: str = ZERO, gas: int = 0, expiry: int = 0) -> object:
        return hub.functions.request(env.id(RISK), inputs, callback, gas, expiry)

    assert chain.reverts(req(INPUTS[:7]), who, "WrongInputCount") == (8, 7)
    too_big = [*INPUTS[:5], 2**15, *INPUTS[6:]]
    assert chain.reverts(req(too_big), who, "ValueOutOfRange") == (INPUT_SIDE, 5, 2**15, 16)
    too_small = [-(2**15) - 1, *INPUTS[1:]]
    assert chain.reverts(req(too_small), who, "ValueOutOfRange")[1:3] == (0, -(2**15) - 1)
    chain.send(req([2**15 - 1] * 8), who)  # the boundary values fit
    assert chain.reverts(req(INPUTS, callback=env.other), who, "CallbackNotContract")
    assert chain.reverts(req(INPUTS, gas=5_000_001), who, "CallbackGasTooHigh")
    assert chain.reverts(req(INPUTS, expiry=chain.now() - 1), who, "BadExpiry")
    unknown = hub.functions.request(b"\x42" * 32, INPUTS, ZERO, 0, 0)
    assert chain.reverts(unknown, who, "UnknownModel") == (b"\x42" * 32,)


# -- fulfillment ----------------------------------------------------------------------------


def test_valid_fulfillment_stores_pays_and_calls_back(env: HubEnv) -> None:
    consumer = env.chain.deploy("TestConsumer", env.hub.address)
    ask = consumer.functions.ask(env.id(RISK), INPUTS, 200_000, 0)
    env.chain.send(ask, env.requester, value=FEE)
    rid = env.hub.functions.requestCount().call()
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)
    assert env.hub.functions.requestPublicInputs(rid, env.submitter, OUTPUTS).call() == (
        RISK.layout.public_inputs(env.binding(rid, env.submitter), INPUTS, OUTPUTS)
    )
    before = env.chain.balance(env.submitter)
    receipt = env.fulfill(rid, OUTPUTS, proof, env.submitter)
    assert env.chain.balance(env.submitter) == before + FEE - env.chain.fee_paid(receipt)
    assert env.hub.functions.result(rid).call() == [FULFILLED, OUTPUTS]
    assert consumer.functions.calls().call() == 1
    assert consumer.functions.lastRequestId().call() == rid
    assert consumer.functions.lastOutputs().call() == OUTPUTS
    (event,) = env.chain.events(env.hub, receipt, "InferenceFulfilled")
    assert event["args"]["submitter"] == env.submitter and list(event["args"]["outputs"]) == OUTPUTS
    assert env.chain.events(env.hub, receipt, "CallbackFailed") == []


def _pending(env: HubEnv) -> tuple[int, list[int]]:
    rid = env.request(RISK, INPUTS)
    return rid, env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter)


def _tamper_points(env: HubEnv, rid: int, proof: list[int]) -> tuple[list[int], list[int]]:
    """A proof whose points are valid but belong to another proof: the equation fails."""
    other = env.proof(RISK, rid, INPUTS, OUTPUTS, env.submitter, seed=2)
    return [*proof[:6], *other[6:]], OUTPUTS


@anvil_only
@pytest.mark.parametrize(
    "case",
    ["tampered proof", "point off the curve", "changed output", "changed input", "wrong binding"],
)
def test_fulfillment_rejects_a_wrong_statement(env: HubEnv, case: str) -> None:
    rid, proof = _pending(env)
    outputs = OUTPUTS
    if case == "tampered proof":
        proof, outputs = _tamper_points(env, rid, proof)
    elif case == "point off the curve":
        proof = [proof[0], (proof[1] + 1) % 2**256, *proof[2:]]
    elif case == "changed output":
        outputs = [OUTPUTS[0] + 1]
    elif case == "changed input":
        changed = [*INPUTS[:3], INPUTS[3] + 1, *INPUTS[4:]]
        proof = env.proof(RISK, rid, changed, OUTPUTS, env.submitter)
    elif case == "wrong binding":
        proof = env.proof(RISK, rid + 1, INPUTS, OUTPUTS, env.submitter)
    fn = env.hub.functions.fulfill(rid, outputs, proof)
    env.chain.reverts(fn, env.submitter, "InvalidProof")
    assert env.hub.functions.result(rid).call() == [PENDING, []]


def test_a_proof_copied_by_another_sender_is_rejected(env: HubEnv) -> None:
    rid, proof = _pending(env)  # bound to env.submitter, as if copied from the mempool
    fn = env.hub.functions.fulfill(rid, OUTPUTS, proof)
    env.chain.reverts(fn, env.other, "InvalidProof")
    env.fulfill(rid, OUTPUTS, proof, env.submitter)  # its rightful submitter still can


def test_fulfillment_rejects_outputs_outside_their_range(env: HubEnv) -> None:
    rid, _ = _pending(env)
    fulfill = env.hub.functions.fulfill
    # v - r encodes to the same field element as v: only the range check stops it.
    alias = OUTPUTS[0] - R
    proof = RISK.forge(
        [env.binding(rid, env.submitter), *RISK.layout.inputs.encode(INPUTS), OUTPUTS[0]]
    )
    args = env.chain.reverts(fulfill(rid, [alias], proof), env.submitter, "ValueOutOfRange")
    assert args == (OUTPUT_SIDE, 0, alias, 32)
    env.chain.reverts(fulfill(rid, [2**31], proof), env.submitter, "ValueOutOfRange")
    assert env.chain.reverts(fulfill(rid, [1, 2], proof), env.submitter, "WrongOutputCount") == (
        1,
        2,
    )


def test_verifier_rejects_public_inputs_not_below_r(env: HubEnv) -> None:
    verifier = env.verifiers[RISK_PACKED.layout.n_public]
    public = [12345, 678, 9]
    proof = RISK_PACKED.forge(public)
    verifier.functions.verifyProof(proof, public).call()  # accepted as is
    shifted = [public[0] + R, *public[1:]]
    fn = verifier.functions.verifyProof(proof, shifted)
    assert env.chain.reverts(fn, env.other, "PublicInputNotInField") == (0,)


def test_a_request_is_fulfilled_at_most_once(env: HubEnv) -> None:
    rid, proof = _pending(env)
    env.fulfill(rid, OUTPUTS, proof, env.submitter)
    env.chain.reverts(
        env.hub.functions.fulfill(rid, OUTPUTS, proof), env.submitter, "AlreadyFulfilled"
    )
    again = env.proof(RISK, rid, INPUTS, [7], env.other)
    env.chain.reverts(env.hub.functions.fulfill(rid, [7], again), env.other, "AlreadyFulfilled")
    assert env.hub.functions.result(rid).call() == [FULFILLED, OUTPUTS]
    env.chain.reverts(env.hub.functions.fulfill(10**9, OUTPUTS, proof), env.other, "UnknownRequest")


@anvil_only
def test_a_submitter_that_refuses_the_fee_cannot_fulfill(env: HubEnv) -> None:
    relay = env.chain.deploy("RefusingSubmitter")
    rid = env.request(RISK, INPUTS)
    proof = env.proof(RISK, rid, INPUTS, OUTPUTS, relay.address)
    fn = relay.functions.fulfill(env.hub.address, rid, OUTPUTS, proof)
    assert env.chain.reverts(fn, env.submitter, "PaymentFailed") == (relay.address, FEE)
