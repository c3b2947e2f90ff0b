"""The deployed hub the invariant machine of `test_hub_invariants` drives, and the model
of what the hub should hold that it checks against."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle import chain as chains
from oracle.daemon.provers import ProofResult, ProofTask, prove_task
from oracle.hub import Hub, deploy_model
from tests.oracle.hub_harness import HarnessChain

INPUTS = ((100, 200, 300), (-500, 40, 7))
FEE = 10**15
#: Requests live an hour; only the long jump of `time_passes` expires them, so the gap
#: between the latest block's time and the next block's never decides an expiry.
TTL = 3600


@functools.cache
def proof_for(model_dir: str, inputs: tuple[int, ...], binding: int) -> ProofResult:
    """A real proof, made once per statement for the whole module."""
    return prove_task(ProofTask(0, model_dir, inputs, binding))


@dataclass
class World:
    """The deployed hub and what the machine needs to act and check, on one chain."""

    chain: HarnessChain
    hub: Hub
    model_dir: Path
    model_id: bytes
    verifier: str
    consumers: dict[str, Any]  # "record" / "revert" -> address
    snapshot: Any = None

    def take_snapshot(self) -> None:
        if self.chain.name == "embedded":
            self.snapshot = self.chain.w3.provider.ethereum_tester.take_snapshot()  # type: ignore[attr-defined]
        else:
            self.snapshot = self.chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]

    def restore(self) -> None:
        if self.chain.name == "embedded":
            self.chain.w3.provider.ethereum_tester.revert_to_snapshot(self.snapshot)  # type: ignore[attr-defined]
        else:
            self.chain.w3.provider.make_request("evm_revert", [self.snapshot])  # type: ignore[arg-type]
            self.take_snapshot()  # an Anvil snapshot is used up by its revert


def world_on(kind: str, model_dir: Path) -> World:
    raw = chains.embedded(signer=None) if kind == "embedded" else chains.anvil(signer=None)
    chain = HarnessChain(raw)
    dep = deploy_model(raw, model_dir)
    hub = Hub(raw, dep.hub)
    consumers = {}
    for mode, name in ((0, "record"), (1, "revert")):
        c = chain.deploy("TestConsumer", dep.hub)
        chain.send(c.functions.setMode(mode), chain.accounts[0])
        consumers[name] = c.address
    world = World(chain, hub, model_dir, dep.model_id, dep.verifier, consumers)
    world.take_snapshot()
    return world


@dataclass
class Req:
    request_id: int
    model_id: bytes
    requester: str
    inputs: tuple[int, ...]
    fee: int
    expiry: int
    callback: str
    status: int = 1  # pending
    outputs: tuple[int, ...] = ()


@dataclass
class Model:
    balances: dict[str, int] = field(default_factory=dict)
    requests: dict[int, Req] = field(default_factory=dict)
    models: dict[bytes, bool] = field(default_factory=dict)  # id -> retired
    feeds: dict[bytes, tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    checked_proofs: set[int] = field(default_factory=set)
