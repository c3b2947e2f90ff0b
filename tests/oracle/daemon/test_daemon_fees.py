"""Fee arithmetic and the retry policy: pure functions, checked on many values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracle.daemon.fees import Fees, GasPolicy, first_fees, replacement_fees
from oracle.errors import ChainConnectionError
from oracle.rpc import RetryPolicy, with_retry

GWEI = 10**9
wei = st.integers(min_value=0, max_value=10_000 * GWEI)


def _policy(cap: int, priority: int, bump: float = 12.5) -> GasPolicy:
    return GasPolicy(max_fee_wei=cap, priority_fee_wei=priority, replace_after=1, bump_percent=bump)


def test_first_fees_follow_the_base_fee_under_the_cap() -> None:
    policy = _policy(100 * GWEI, 2 * GWEI)
    assert first_fees(10 * GWEI, policy) == Fees(22 * GWEI, 2 * GWEI)
    assert first_fees(80 * GWEI, policy) == Fees(100 * GWEI, 2 * GWEI)  # capped


@given(
    base=wei,
    cap=st.integers(min_value=1, max_value=10_000 * GWEI),
    priority=wei,
    bump=st.floats(min_value=10, max_value=100),
    old_max=wei,
    old_priority_share=st.floats(min_value=0, max_value=1),
)
def test_a_replacement_bumps_both_fees_or_is_refused(
    base: int, cap: int, priority: int, bump: float, old_max: int, old_priority_share: float
) -> None:
    policy = _policy(cap, min(priority, cap), bump)
    old = Fees(old_max, int(old_max * old_priority_share))
    new = replacement_fees(old, base, policy)
    if new is None:
        # Refused only when the cap leaves no room for the bump.
        assert (
            old.max_fee * (100 + bump) / 100 > cap
            or old.max_fee + 1 > cap
            or (old.priority_fee * (100 + bump) / 100 > cap)
        )
        return
    assert new.max_fee <= cap and new.priority_fee <= new.max_fee
    assert new.max_fee >= old.max_fee * (100 + bump) / 100 and new.max_fee > old.max_fee
    assert new.priority_fee >= old.priority_fee * (100 + bump) / 100
    assert new.priority_fee > old.priority_fee
    assert new.max_fee >= min(first_fees(base, policy).max_fee, cap)


def test_retry_backs_off_exponentially_then_names_the_call() -> None:
    waits: list[float] = []
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionRefusedError("connection refused")
        return 42

    policy = RetryPolicy(attempts=5, first_delay=0.5, max_delay=1.5)
    assert with_retry("eth_blockNumber", flaky, policy, sleep=waits.append) == 42
    assert waits == [0.5, 1.0, 1.5]
    waits.clear()

    def down() -> int:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(ChainConnectionError, match=r"eth_blockNumber: the RPC endpoint failed 5"):
        with_retry("eth_blockNumber", down, policy, sleep=waits.append)
    assert waits == [0.5, 1.0, 1.5, 1.5]


def test_answers_are_not_retried() -> None:
    calls = 0

    def answer() -> int:
        nonlocal calls
        calls += 1
        raise ValueError("invalid params")

    with pytest.raises(ValueError, match="invalid params"):
        with_retry("eth_call", answer, RetryPolicy(), sleep=lambda _: None)
    assert calls == 1
