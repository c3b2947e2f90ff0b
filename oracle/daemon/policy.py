"""Which requests can be proven (`input_problem`) and are worth proving (`refusal`, the
per-model policy of `ModelPolicy`).

A request costs the operator a proof and a fulfillment transaction, whose gas includes the
consumer's callback; the requester's fee is all the operator gets back. Without a policy a
zero-fee request with a 5,000,000-gas callback that burns it all costs the operator tens of
times what it cost the requester. So before any prover is asked, a request is refused when

* its fee is below the model's ``min_fee``,
* its callback gas exceeds ``max_callback_gas``,
* its fee is below the expected cost of its fulfillment (the gas bound of
  `expected_fulfill_gas` at the current base fee plus the priority fee) times
  ``fee_margin`` (when the margin is set),
* or it expires within ``min_time_left`` seconds (the fulfillment would not be mined in
  time: the hub refuses it after expiry and the work would be lost).

A refusal is a (reason code, reason) pair; the daemon fails the job with it, logs it and
counts it in ``zkoracle_jobs_skipped_total``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from circuits import FieldRangeError, PublicLayout
from oracle.daemon.models_config import ModelConfig, ModelPolicy
from oracle.hub.binding import (
    CALLBACK_GAS_OVERHEAD,
    FULFILL_GAS_BASE,
    FULFILL_GAS_PER_OUTPUT,
    FULFILL_GAS_PER_PUBLIC,
)

ZERO_ADDRESS = "0x" + "00" * 20


def input_problem(
    model: ModelConfig, layout: PublicLayout, inputs: Sequence[int]
) -> tuple[str, str] | None:
    """(reason code, reason) if the model cannot take `inputs`: the circuit would refuse
    them (the hub checks the same against the registration, which may not match the
    artifacts the daemon has for the id)."""
    if len(inputs) != layout.n_inputs:
        return "wrong_input_count", (
            f"model {model.name} takes {layout.n_inputs} input values, "
            f"the request has {len(inputs)}"
        )
    try:
        layout.inputs.check(inputs, "input")
    except FieldRangeError as exc:
        return "input_out_of_range", f"model {model.name}: {exc}"
    return None


def expected_fulfill_gas(n_public: int, n_outputs: int, callback: str, callback_gas: int) -> int:
    """The gas bound of a fulfillment (`oracle.hub.Hub.fulfill_gas`'s formula)."""
    gas = FULFILL_GAS_BASE + FULFILL_GAS_PER_PUBLIC * n_public + FULFILL_GAS_PER_OUTPUT * n_outputs
    if int(callback, 16) != 0:
        gas += callback_gas + callback_gas // 63 + CALLBACK_GAS_OVERHEAD
    return gas


def refusal(
    policy: ModelPolicy,
    request: Mapping[str, Any],
    *,
    fulfill_gas: int,
    gas_price_wei: int,
    now: float,
) -> tuple[str, str] | None:
    """(reason code, reason) if `request` (an ``InferenceRequested`` payload) is not worth
    proving under `policy`; None if it is."""
    fee, callback_gas = int(request["fee"]), int(request["callback_gas_limit"])
    if fee < policy.min_fee:
        return "fee_below_minimum", f"fee {fee} wei is below the model's minimum {policy.min_fee}"
    if callback_gas > policy.max_callback_gas:
        return "callback_gas_too_high", (
            f"callback gas {callback_gas} exceeds the model's maximum {policy.max_callback_gas}"
        )
    cost = fulfill_gas * gas_price_wei
    if policy.fee_margin > 0 and fee < cost * policy.fee_margin:
        return "fee_below_cost", (
            f"fee {fee} wei is below the expected cost {cost} wei ({fulfill_gas} gas at "
            f"{gas_price_wei} wei) x margin {policy.fee_margin:g}"
        )
    left = int(request["expiry"]) - now
    if left < policy.min_time_left:
        return "expiring", (
            f"the request expires in {left:.0f} s, less than the {policy.min_time_left:g} s "
            "a fulfillment needs to be mined"
        )
    return None
