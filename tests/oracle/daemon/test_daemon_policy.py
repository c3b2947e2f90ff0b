"""The per-model request policy: each refusal, its reason, and the gas bound it prices."""

from __future__ import annotations

import pytest

from oracle.daemon.models_config import ModelPolicy
from oracle.daemon.policy import expected_fulfill_gas, refusal

CONSUMER = "0x" + "ab" * 20
NOW = 1_000_000.0


def _request(
    fee: int = 10**15, gas: int = 100_000, expiry: float = NOW + 3600
) -> dict[str, int | str]:
    return {"fee": fee, "callback_gas_limit": gas, "expiry": int(expiry), "callback": CONSUMER}


def _why(policy: ModelPolicy, request: dict[str, int | str], price: int = 10**9) -> str | None:
    gas = expected_fulfill_gas(3, 1, str(request["callback"]), int(request["callback_gas_limit"]))
    found = refusal(policy, request, fulfill_gas=gas, gas_price_wei=price, now=NOW)
    return None if found is None else f"{found[0]}: {found[1]}"


def test_the_griefing_request_is_refused_by_fee_or_by_callback_gas() -> None:
    grief = _request(fee=0, gas=5_000_000)
    assert _why(ModelPolicy(min_fee=1), grief) == (
        "fee_below_minimum: fee 0 wei is below the model's minimum 1"
    )
    assert _why(ModelPolicy(max_callback_gas=500_000), grief) == (
        "callback_gas_too_high: callback gas 5000000 exceeds the model's maximum 500000"
    )
    why = _why(ModelPolicy(fee_margin=1.0), grief)
    assert why is not None and why.startswith("fee_below_cost: fee 0 wei is below the expected")


def test_fee_margin_prices_the_callback_gas() -> None:
    bare = expected_fulfill_gas(3, 1, "0x" + "00" * 20, 5_000_000)
    with_callback = expected_fulfill_gas(3, 1, CONSUMER, 5_000_000)
    assert with_callback - bare == 5_000_000 + 5_000_000 // 63 + 20_000
    cost = with_callback * 10**9
    policy = ModelPolicy(fee_margin=1.5)
    assert _why(policy, _request(fee=int(cost * 1.5), gas=5_000_000)) is None
    assert _why(policy, _request(fee=int(cost * 1.5) - 1, gas=5_000_000)) is not None
    assert _why(ModelPolicy(), _request(fee=0, gas=5_000_000)) is None  # the defaults take it


@pytest.mark.parametrize(("left", "refused"), [(29, True), (30, False), (-5, True)])
def test_requests_expiring_before_inclusion_are_skipped(left: int, refused: bool) -> None:
    why = _why(ModelPolicy(min_time_left=30), _request(expiry=NOW + left))
    assert (why is not None) == refused
    if refused:
        assert why is not None and why.startswith(f"expiring: the request expires in {left} s")
