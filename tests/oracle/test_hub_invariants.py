"""The hub's invariants under random call sequences (hypothesis stateful testing).

A `RuleBasedStateMachine` drives a real hub with a real model (a 3 -> 4 -> 2 MLP, real
arkworks proofs, its generated verifier) from several accounts: register models, request
(with no callback, a recording consumer or a reverting one), fulfill with valid proofs,
with proofs of other outputs and with malformed ones, fulfill after expiry, cancel, retire,
create and update feeds, and let time pass. After every step it checks that

* no fee is paid twice or lost: the hub holds exactly the fees of its pending requests and
  every account's balance is what its fees, payouts, refunds and gas say;
* no request is fulfilled twice or after its expiry (every such attempt reverts and the
  hub emits at most one ``InferenceFulfilled`` per request);
* every stored output has a verified proof behind it: the pure-Python verifier accepts the
  proof in the fulfilling transaction for the statement the hub stored;
* feed rounds only increase, one at a time, and the latest outputs are the proven ones;
* a failing callback never reverts a fulfillment (``CallbackFailed``, outputs stored).

Each example starts from a chain snapshot taken after deployment, so request ids, the hub
address and the proofs' bindings repeat across examples: a proof is made once per module
(request id, submitter, inputs) with the real prover and reused. The embedded chain's
pairing costs ~1.5 s per verification, so its run is short; the Anvil run is longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from circuits import Proof, verify
from oracle.errors import TransactionReverted
from oracle.hub import ModelArtifacts, model_id_of
from oracle.statement import feed_binding, request_binding
from tests.oracle.hub_world import FEE, INPUTS, TTL, Model, Req, World, proof_for, world_on

STATS: dict[str, int] = {"sequences": 0, "steps": 0}


def _count(what: str) -> None:
    STATS[what] = STATS.get(what, 0) + 1


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3 -> 4 -> 2 MLP, compiled and set up with arkworks keys."""
    import onnx

    import circuits
    from circuits.onnx import examples

    out = tmp_path_factory.mktemp("invariants")
    onnx.save(examples.mlp([3, 4, 2], seed=1), out / "mlp.onnx")
    circuits.compile_model(out / "mlp.onnx", out / "model")
    circuits.setup(out / "model")
    return out / "model"


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over `world` (hypothesis instantiates it per example)."""

    class HubMachine(RuleBasedStateMachine):
        requests = Bundle("requests")

        def __init__(self) -> None:
            super().__init__()
            world.restore()
            self.w = world
            self.c = world.chain
            self.actors = self.c.accounts[:4]
            self.m = Model(balances={a: self.c.balance(a) for a in self._watched()})
            self.m.models[world.model_id] = False
            STATS["sequences"] += 1

        def _watched(self) -> list[str]:
            return [*self.c.accounts[:4], self.w.hub.address, *self.w.consumers.values()]

        def _send(self, fn: Any, sender: str, value: int = 0, gas: int = 3_000_000) -> Any:
            receipt = self.c.send(fn, sender, value=value, gas=gas)
            self.m.balances[sender] -= self.c.fee_paid(receipt) + value
            return receipt

        def _reverts(self, fn: Any, sender: str, value: int = 0) -> str:
            """The custom error `fn` reverts with, simulated (eth_call): nothing is spent."""
            with pytest.raises(TransactionReverted) as info:
                self.c.chain.call(fn, sender=sender) if not value else self.c.chain.estimate_gas(
                    fn, value=value, sender=sender
                )
            return str(info.value.error_name)

        # -- rules --------------------------------------------------------------------------

        @initialize(target=requests)
        def first_request(self) -> int:
            """Every sequence starts with a paid request whose callback reverts."""
            return cast(int, self.request(1, INPUTS[0], "revert", FEE, 0))

        @precondition(lambda self: len(self.m.models) < 3)
        @rule(who=st.integers(0, 3), salt=st.binary(min_size=32, max_size=32))
        def register(self, who: int, salt: bytes) -> None:
            sender = self.actors[who]
            art = ModelArtifacts.load(self.w.model_dir)
            fn = self.w.hub.contract.functions.registerModel(
                salt, art.spec(self.w.verifier).as_abi()
            )
            model_id = model_id_of(sender, salt)
            if model_id in self.m.models:
                assert self._reverts(fn, sender) == "ModelExists"
                return
            self._send(fn, sender)
            self.m.models[model_id] = False
            _count("registered")

        @rule(
            target=requests,
            who=st.integers(1, 3),
            which=st.sampled_from(INPUTS),
            callback=st.sampled_from(["none", "record", "revert"]),
            fee=st.sampled_from([0, FEE]),
            model_index=st.integers(0, 3),
        )
        def request(self, who: int, which: tuple[int, ...], callback: str, fee: int,
                    model_index: int) -> int:  # fmt: skip
            model_id = sorted(self.m.models)[model_index % len(self.m.models)]
            target = self.w.consumers.get(callback, "0x" + "00" * 20)
            gas_limit = 0 if callback == "none" else 200_000
            expiry = self.c.now() + TTL
            fn = self.w.hub.contract.functions.request(
                model_id, list(which), target, gas_limit, expiry
            )
            sender = self.actors[who]
            if self.m.models[model_id]:
                assert self._reverts(fn, sender, fee) == "ModelIsRetired"
                return 0
            receipt = self._send(fn, sender, value=fee)
            (event,) = self.w.hub.requested_in(receipt)
            rid = event["request_id"]
            self.m.balances[self.w.hub.address] += fee
            self.m.requests[rid] = Req(rid, model_id, sender, which, fee, expiry, target)
            _count("requested")
            return rid

        @rule(rid=requests, who=st.integers(0, 3))
        def fulfill_valid(self, rid: int, who: int) -> None:
            req = self.m.requests.get(rid)
            if req is None:
                return
            submitter = self.actors[who]
            binding = request_binding(self.c.chain.chain_id, self.w.hub.address, rid, submitter)
            proof = proof_for(str(self.w.model_dir), req.inputs, binding)
            fn = self.w.hub.contract.functions.fulfill(
                rid, list(proof.outputs), list(proof.proof_words)
            )
            expected = self._expected_fulfill_error(req)
            if expected is not None:
                assert self._reverts(fn, submitter) == expected
                _count(f"fulfill refused: {expected}")
                return
            receipt = self._send(fn, submitter, gas=1_000_000)
            _count(
                "fulfilled"
                + (" (callback failed)" if req.callback == self.w.consumers["revert"] else "")
            )
            self.m.balances[submitter] += req.fee
            self.m.balances[self.w.hub.address] -= req.fee
            req.status, req.outputs = 2, proof.outputs
            failures = self.w.hub.callback_failures_in(receipt)
            assert bool(failures) == (req.callback == self.w.consumers["revert"])

        def _expected_fulfill_error(self, req: Req) -> str | None:
            if req.status == 2:
                return "AlreadyFulfilled"
            if req.status == 3:
                return "RequestNotPending"
            if self.c.now() >= req.expiry:
                return "RequestExpired"
            if self.m.models[req.model_id]:
                return "ModelIsRetired"
            return None

        @rule(rid=requests, who=st.integers(0, 3), malformed=st.booleans())
        def fulfill_invalid(self, rid: int, who: int, malformed: bool) -> None:
            req = self.m.requests.get(rid)
            if req is None or self._expected_fulfill_error(req) is not None:
                return
            submitter = self.actors[who]
            # A real proof made for another submitter (as copied from the mempool), or a
            # malformed one (a coordinate >= q).
            other = self.actors[(who + 1) % 4]
            binding = request_binding(self.c.chain.chain_id, self.w.hub.address, rid, other)
            proof = proof_for(str(self.w.model_dir), req.inputs, binding)
            words = list(proof.proof_words)
            if malformed:
                words[0] += 2**255
            fn = self.w.hub.contract.functions.fulfill(rid, list(proof.outputs), words)
            assert self._reverts(fn, submitter) == "InvalidProof"
            _count("invalid proof refused")

        @rule(rid=requests, who=st.integers(0, 3))
        def cancel(self, rid: int, who: int) -> None:
            req = self.m.requests.get(rid)
            if req is None:
                return
            sender = self.actors[who]
            fn = self.w.hub.contract.functions.cancel(rid)
            if req.status != 1:
                assert self._reverts(fn, sender) in ("AlreadyFulfilled", "RequestNotPending")
            elif sender != req.requester:
                assert self._reverts(fn, sender) == "NotRequester"
            elif self.c.now() < req.expiry and not self.m.models[req.model_id]:
                assert self._reverts(fn, sender) == "NotCancellable"
            else:
                self._send(fn, sender)
                self.m.balances[sender] += req.fee
                self.m.balances[self.w.hub.address] -= req.fee
                req.status = 3
                _count("cancelled")

        @precondition(lambda self: len(self.m.requests) >= 3)
        @rule(who=st.integers(0, 3), model_index=st.integers(0, 3))
        def retire(self, who: int, model_index: int) -> None:
            model_id = sorted(self.m.models)[model_index % len(self.m.models)]
            sender = self.actors[who]
            fn = self.w.hub.contract.functions.retireModel(model_id)
            owner = self.w.hub.model(model_id)
            assert owner is not None
            if self.m.models[model_id]:
                assert self._reverts(fn, sender) == "ModelIsRetired"
            elif owner["owner"] != sender:
                assert self._reverts(fn, sender) == "NotModelOwner"
            else:
                self._send(fn, sender)
                self.m.models[model_id] = True
                _count("retired")

        @rule(feed=st.sampled_from([b"\x01" * 32, b"\x02" * 32]), who=st.integers(0, 3),
              which=st.sampled_from(INPUTS))  # fmt: skip
        def feed_update(self, feed: bytes, who: int, which: tuple[int, ...]) -> None:
            sender = self.actors[who]
            hub = self.w.hub.contract.functions
            if feed not in self.m.feeds:
                if self.m.models[self.w.model_id]:
                    return
                self._send(hub.createFeed(feed, self.w.model_id), sender)
                self._send(hub.setFeedUpdater(feed, "0x" + "00" * 20), sender)  # open feed
                self.m.feeds[feed] = (0, ())
            round_, _ = self.m.feeds[feed]
            binding = feed_binding(
                self.c.chain.chain_id, self.w.hub.address, feed, round_ + 1, sender
            )
            proof = proof_for(str(self.w.model_dir), which, binding)
            outputs, words = list(proof.outputs), list(proof.proof_words)
            jump = hub.updateFeed(feed, list(which), outputs, round_ + 2, words)
            assert self._reverts(jump, sender) == "RoundNotNext"
            fn = hub.updateFeed(feed, list(which), outputs, round_ + 1, words)
            if self.m.models[self.w.model_id]:
                assert self._reverts(fn, sender) == "ModelIsRetired"
                return
            self._send(fn, sender, gas=1_000_000)
            self.m.feeds[feed] = (round_ + 1, proof.outputs)
            _count("feed round")

        @rule(seconds=st.sampled_from([1, 60, 2 * TTL]))
        def time_passes(self, seconds: int) -> None:
            if self.c.name != "embedded":
                self.c.advance(seconds)
                return
            # py-evm's pending block follows the wall clock, which may be ahead of the
            # latest block: travel from whichever is later (it refuses to go back).
            tester = self.c.w3.provider.ethereum_tester  # type: ignore[attr-defined]
            pending = int(tester.get_block_by_number("pending")["timestamp"])
            tester.time_travel(max(pending, self.c.now()) + seconds)

        # -- invariants ---------------------------------------------------------------------

        @invariant()
        def balances_conserve(self) -> None:
            STATS["steps"] += 1
            pending = sum(r.fee for r in self.m.requests.values() if r.status == 1)
            assert self.c.balance(self.w.hub.address) == pending
            for address, expected in self.m.balances.items():
                assert self.c.balance(address) == expected, address

        @invariant()
        def requests_match_and_are_fulfilled_once_with_a_verifiedproof_for(self) -> None:
            logs = self.w.hub.contract.events.InferenceFulfilled().get_logs(from_block=0)
            counts: dict[int, int] = {}
            for log in logs:
                rid = int(log["args"]["requestId"])
                counts[rid] = counts.get(rid, 0) + 1
                if rid not in self.m.checked_proofs:
                    self._checkproof_for(rid, log)
            for rid, req in self.m.requests.items():
                status, outputs = self.w.hub.contract.functions.result(rid).call()
                assert status == req.status, rid
                assert tuple(outputs) == req.outputs
                assert counts.get(rid, 0) == (1 if req.status == 2 else 0)

        def _checkproof_for(self, rid: int, log: Any) -> None:
            """The pure-Python verifier accepts the fulfilling transaction's proof for the
            statement the hub stored (binding of its sender, the inputs, the outputs)."""
            tx = self.c.w3.eth.get_transaction(log["transactionHash"])
            _, args = self.w.hub.contract.decode_function_input(tx["input"])
            req = self.m.requests[rid]
            binding = request_binding(self.c.chain.chain_id, self.w.hub.address, rid, tx["from"])
            layout = ModelArtifacts.load(self.w.model_dir).layout
            public = layout.public_inputs(binding, list(req.inputs), list(args["outputs"]))
            assert verify(self.w.model_dir, public, Proof.from_words(list(args["proof"])))
            self.m.checked_proofs.add(rid)

        @invariant()
        def feed_rounds_increase_one_at_a_time(self) -> None:
            for feed, (round_, outputs) in self.m.feeds.items():
                got_outputs, got_round, _ = self.w.hub.contract.functions.latest(feed).call()
                assert (got_round, tuple(got_outputs)) == (round_, outputs)

    return HubMachine


def _run(world: World, examples: int, steps: int) -> None:
    before = dict(STATS)
    run_state_machine_as_test(
        machine_for(world),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
    ran = {k: STATS[k] - before.get(k, 0) for k in STATS}
    actions = ", ".join(
        f"{k} {v}" for k, v in sorted(ran.items()) if k not in ("sequences", "steps")
    )
    print(
        f"\n{world.chain.name}: {ran['sequences']} sequences, "
        f"{ran['steps']} checked steps ({actions})"
    )


@pytest.fixture(scope="module")
def embedded_world(model_dir: Path) -> Iterator[World]:
    world = world_on("embedded", model_dir)
    yield world
    world.chain.chain.close()


def test_hub_invariants_on_the_embedded_chain(embedded_world: World) -> None:
    _run(embedded_world, examples=4, steps=12)


@pytest.mark.slow
@pytest.mark.anvil
def test_hub_invariants_on_anvil(model_dir: Path) -> None:
    world = world_on("anvil", model_dir)
    try:
        _run(world, examples=8, steps=20)
    finally:
        world.chain.chain.close()
