"""Exceptions of the daemon, all under `oracle.errors.OracleError` via `DaemonError`."""

from __future__ import annotations

from oracle.errors import OracleError


class DaemonError(OracleError):
    """Root of the errors the daemon raises itself."""


class ConfigError(DaemonError):
    """The configuration file is missing, unreadable or invalid; names the file and key."""


class StoreError(DaemonError):
    """The job store cannot be opened or holds data it cannot accept."""


class IllegalTransition(StoreError):
    """A job was asked to move along an edge the state machine does not have."""

    def __init__(self, job_id: int, current: str, wanted: str) -> None:
        self.job_id = job_id
        self.current = current
        self.wanted = wanted
        super().__init__(f"job {job_id}: illegal transition {current} -> {wanted}")


class RequestConflict(StoreError):
    """A request key is already stored with different content outside any reorg."""


class ReorgTooDeep(DaemonError):
    """The chain replaced every block whose hash the store still remembers."""


class SubmitError(DaemonError):
    """A transaction could not be built, signed or sent."""


class ProverError(DaemonError):
    """A proof could not be produced for a job (the reason names the job and the model)."""


class ProverLost(ProverError):
    """The prover that held a job is gone (a Ray actor, its node or the whole cluster): the
    job goes back to the queue and is proved again, never failed."""
