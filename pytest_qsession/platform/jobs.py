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
