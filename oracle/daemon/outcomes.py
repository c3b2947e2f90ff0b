"""What submitting came to: the report of a submitter's step, and what a reverted
submission means for its job (the work is done, or the job fails).

A fulfilment or feed round can revert because someone else got there first: the request
is fulfilled (``AlreadyFulfilled``, or ``RequestNotPending`` with status Fulfilled), or
the feed round is posted (``RoundNotNext`` with the latest round at or past ours). Then
the job is done and nothing is owed. Any other revert fails the job with a reason code:
the error's name in snake case (``request_expired``, ``invalid_proof``), or for a request
that is no longer pending its status (``cancelled``, ``none``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oracle.daemon.jobs import Job
from oracle.errors import TransactionReverted
from oracle.hub import RequestStatus

#: Reverts meaning someone already did the work: the job is done, not failed.
DONE_ERRORS = {
    "AlreadyFulfilled": "already fulfilled by another submitter",
}
#: ``RoundNotNext(feedId, round, latestRound)`` with latestRound >= round: posted already.
ROUND_POSTED = "this feed round is already posted"


@dataclass
class StepReport:
    """What one `Submitter.step` did, for logs and metrics."""

    sent: list[Job] = field(default_factory=list)
    replaced: list[Job] = field(default_factory=list)
    rebroadcast: list[Job] = field(default_factory=list)
    requeued: list[Job] = field(default_factory=list)
    confirmed: list[Job] = field(default_factory=list)
    failed: list[Job] = field(default_factory=list)
    gas_spent_wei: int = 0
    rejected: list[str] = field(default_factory=list)  # node refusals, one line each


def snake(name: str) -> str:
    """``RequestExpired`` -> ``request_expired``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class RevertOutcome:
    """`done`: the work is on chain already (`reason` says why); else the job fails with
    reason code `reason`."""

    done: bool
    reason: str


def revert_outcome(err: TransactionReverted) -> RevertOutcome:
    """What `err`, the revert of a job's transaction or its dry run, means for the job."""
    name = err.error_name
    if name == "RoundNotNext" and int(err.error_args[2]) >= int(err.error_args[1]):
        return RevertOutcome(True, ROUND_POSTED)
    if name in DONE_ERRORS:
        return RevertOutcome(True, DONE_ERRORS[name])
    if name == "RequestNotPending":
        status = RequestStatus(int(err.error_args[1]))
        if status is RequestStatus.FULFILLED:
            return RevertOutcome(True, DONE_ERRORS["AlreadyFulfilled"])
        return RevertOutcome(False, snake(status.name.title()))
    return RevertOutcome(False, snake(name) if name else "reverted")
