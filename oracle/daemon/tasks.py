"""What a queued job asks of a prover, and what its finished proof becomes on chain.

`TaskMaker.task` turns a job into the prover's `ProofTask`, or into the reason it gets
none: the model is not configured, its policy refuses the request (fee, callback gas,
expiry: `oracle.daemon.policy`), the inputs do not fit the model, or a private-input
request's ciphertext does not open to its posted commitment. Each refusal names the job's
model and the reason, and the caller fails (or skips) that job alone.

`TaskMaker.calldata` is the other end: a proof's outputs and words as the hub's (or an
onchain feed contract's) fulfillment call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from web3 import Web3

from circuits import PublicLayout
from oracle.accounts import Signer
from oracle.daemon.config import DaemonConfig
from oracle.daemon.feeds import onchain_update_calldata
from oracle.daemon.jobs import Job, Kind
from oracle.daemon.models_config import ModelConfig
from oracle.daemon.policy import expected_fulfill_gas, input_problem, refusal
from oracle.daemon.provers import ProofResult, ProofTask
from oracle.private_inputs import PrivateInputError, open_request
from oracle.statement import feed_binding, request_binding

if TYPE_CHECKING:
    from oracle.hub import Hub


@dataclass(frozen=True)
class NoTask:
    """Why a job gets no proof: ``skipped`` when the model's policy refuses it (a
    business decision), a failure otherwise."""

    code: str
    reason: str
    skipped: bool = False


def feed_of(job: Job) -> tuple[bytes, int]:
    """(feed id, round) of a feed job."""
    return bytes.fromhex(str(job.payload["feed_id"])[2:]), int(job.payload["round"])


class TaskMaker:
    def __init__(
        self,
        config: DaemonConfig,
        layouts: dict[bytes, PublicLayout],
        hub: Hub,
        signer: Signer,
        chain_id: int,
    ) -> None:
        self.config = config
        self.layouts = layouts
        self.hub = hub
        self.signer = signer
        self.chain_id = chain_id

    def task(self, job: Job) -> ProofTask | NoTask:
        model = self.config.model_by_id(job.model_id)
        if model is None:
            return NoTask("unknown_model", f"model 0x{job.model_id.hex()} is not configured")
        layout = self.layouts[model.model_id]
        if job.kind is Kind.REQUEST and (skip := self._refusal(model, job)) is not None:
            return NoTask(*skip, skipped=True)
        if "ciphertext" in job.payload or layout.inputs_committed:
            return self._sealed_task(job, model, layout)
        inputs = tuple(int(v) for v in job.payload["inputs"])
        problem = input_problem(model, layout, inputs)
        if problem is not None:
            return NoTask(*problem)
        return ProofTask(job.id, str(model.artifacts), inputs, self._binding(job))

    def _sealed_task(
        self, job: Job, model: ModelConfig, layout: PublicLayout
    ) -> ProofTask | NoTask:
        """The task of a private-input request: open its ciphertext with the operator's
        key and check it against the posted commitment."""
        try:
            own = self.signer.encryption_public_key
            opened = open_request(self.signer.decrypt, job.payload, model.model_id, layout, own)
        except PrivateInputError as e:
            return NoTask(e.code, f"model {model.name}: {e}")
        return ProofTask(
            job.id, str(model.artifacts), opened.inputs, self._binding(job),
            salts=(("inputs", opened.salt),), input_commitment=opened.commitment,
        )  # fmt: skip

    def _binding(self, job: Job) -> int:
        # An onchain feed's rounds are posted by its OnchainInputFeeds contract ("to").
        submitter = str(job.payload.get("to", self.signer.address))
        if job.kind is Kind.REQUEST:
            return request_binding(self.chain_id, self.hub.address, job.request_id, submitter)
        feed_id, round_ = feed_of(job)
        return feed_binding(self.chain_id, self.hub.address, feed_id, round_, submitter)

    def _refusal(self, model: ModelConfig, job: Job) -> tuple[str, str] | None:
        """Why the model's policy refuses this request (before any proving), or None."""
        layout = self.layouts[model.model_id]
        payload = job.payload
        gas = expected_fulfill_gas(layout.n_public, layout.n_outputs, str(payload["callback"]),
                                  int(payload["callback_gas_limit"]))  # fmt: skip
        price = 0
        if model.policy.fee_margin > 0:
            price = self.hub.base_fee() + self.config.gas.priority_fee_wei
        return refusal(model.policy, payload, fulfill_gas=gas, gas_price_wei=price, now=time.time())

    def calldata(self, w3: Web3, job: Job, result: ProofResult) -> bytes:
        """The transaction data that delivers `result` for `job`."""
        if job.kind is Kind.REQUEST:
            return self.hub.fulfill_calldata(job.request_id, result.outputs, result.proof_words)
        if "to" in job.payload:
            return onchain_update_calldata(
                w3, job.payload["to"], job.payload, result.outputs, result.proof_words
            )
        feed_id, round_ = feed_of(job)
        return self.hub.update_feed_calldata(
            feed_id, job.payload["inputs"], result.outputs, round_, result.proof_words
        )
