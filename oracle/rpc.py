"""Calling a JSON-RPC endpoint that may go away for a while.

A node restarts, a load balancer drops a connection, a hosted endpoint rate-limits: the
daemon retries such calls with exponential backoff, a bounded number of times, and only
then reports the endpoint as unavailable. Errors that are answers (a revert, an invalid
parameter) are not retried: asking again would get the same answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from web3.exceptions import ProviderConnectionError, RequestTimedOut, TooManyRequests

from oracle.errors import ChainConnectionError
from oracle.redaction import redact

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Failures of the transport, not answers of the node. requests' errors derive from OSError.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    ProviderConnectionError,
    RequestTimedOut,
    TooManyRequests,
)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries, waiting ``first_delay`` then doubling up to ``max_delay``."""

    attempts: int = 6
    first_delay: float = 0.25
    max_delay: float = 8.0

    def delays(self) -> list[float]:
        """The waits between attempts (one fewer than the attempts)."""
        out, delay = [], self.first_delay
        for _ in range(self.attempts - 1):
            out.append(delay)
            delay = min(delay * 2, self.max_delay)
        return out


DEFAULT_RETRY = RetryPolicy()


def with_retry(
    what: str,
    call: Callable[[], T],
    policy: RetryPolicy = DEFAULT_RETRY,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``; transport failures are retried per `policy`, then raise
    `ChainConnectionError` naming `what`, the attempts made and the last error."""
    start = time.monotonic()
    delays = policy.delays()
    for attempt in range(policy.attempts):
        try:
            return call()
        except TRANSIENT as exc:
            if attempt == len(delays):
                elapsed = time.monotonic() - start
                raise ChainConnectionError(
                    f"{what}: the RPC endpoint failed {policy.attempts} times in "
                    f"{elapsed:.1f} s; last error: {type(exc).__name__}: {_short(exc)}"
                ) from exc
            log.warning(
                "%s failed (%s), retrying in %.2f s",
                what,
                type(exc).__name__,
                delays[attempt],
                extra={"attempt": attempt + 1},
            )
            sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def _short(exc: BaseException) -> str:
    """The error's text, cut, without any registered secret (an RPC URL's API key)."""
    text = redact(str(exc))
    return text if len(text) <= 300 else text[:297] + "..."
