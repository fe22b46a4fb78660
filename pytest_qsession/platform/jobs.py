"""Job records: what the service knows about one submitted job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "Queued", "Running", "Completed", "Failed", "Cancelled"
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED})

#: The service's state names in the client's vocabulary (`RuntimeJobV2.status()`).
CLIENT_STATUS = {
    QUEUED: "QUEUED",
    RUNNING: "RUNNING",
    COMPLETED: "DONE",
    FAILED: "ERROR",
    CANCELLED: "CANCELLED",
}

#: reason_code the service sends when a job ran past its `max_execution_time`.
MAX_EXECUTION_TIME_EXCEEDED = 1305

#: The one user every job and session of the fake belongs to (chosen; IBMid-shaped).
USER_ID = "IBMid-qsession0001"

#: Seconds after a job ends until its billing is final: `usage.status` goes from `pending` to
#: `complete` and `job.usage()` stops reading 0 (chosen; the service gives no figure).
BILLING_DELAY = 60.0

#: `state.reason_solution` the service gives with some failure codes (chosen wording).
REASON_SOLUTIONS = {
    1002: "Transpile the circuits for the backend (ISA) and keep within its limits.",
    1305: "Set a larger max_execution_time or split the work into smaller jobs.",
    4001: "Submit the job to an open session, or in job mode.",
}


@dataclass(eq=False)
class Job:
    """One job as the service sees it. `state` uses the REST wording, `status` the client's."""

    job_id: str
    program_id: str
    backend_name: str
    params: dict[str, Any] = field(repr=False)
    created: datetime
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    max_execution_time: int | None = None
    private: bool = False
    log_level: str | None = None
    #: The calibration the job runs against: the one the client asked for, else the backend's.
    calibration_id: str | None = None
    #: The QPU seconds the service expects the job to take when it is created.
    estimated_seconds: float | None = None
    user_id: str = USER_ID
    #: A private job's results can be read once; set when they have been.
    results_read: bool = False
    state: str = QUEUED
    reason: str | None = None
    reason_code: int | None = None
    started: datetime | None = None
    finished: datetime | None = None
    #: Simulated QPU seconds the job needs; fixed when it starts.
    duration: float | None = None
    results: str | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """The status `RuntimeJobV2.status()` reports for this job."""
        if self.state == CANCELLED and self.reason_code == MAX_EXECUTION_TIME_EXCEEDED:
            return "ERROR"
        return CLIENT_STATUS[self.state]

    @property
    def pending(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def quantum_seconds(self) -> float:
        """QPU time used so far (what `usage()` bills)."""
        if self.started is None:
            return 0.0
        end = self.finished
        if end is None:
            return 0.0
        return round((end - self.started).total_seconds(), 6)

    @property
    def reason_solution(self) -> str | None:
        return REASON_SOLUTIONS.get(self.reason_code) if self.reason_code else None

    def billing_status(self, now: datetime) -> str:
        """`pending` until BILLING_DELAY seconds after the job ended, then `complete`."""
        if self.finished is None or (now - self.finished).total_seconds() < BILLING_DELAY:
            return "pending"
        return "complete"
