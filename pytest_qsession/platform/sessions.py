"""Session and batch records and their lifecycle vocabulary.

The scheduler decides *when* a session changes state; this module only says what a session is
and how a change is recorded, so the rules live in one place (`scheduler.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

OPEN, ACTIVE, INACTIVE, CLOSED = "open", "active", "inactive", "closed"

#: The wording `Session.status()` shows for each server state.
CLIENT_STATUS = {OPEN: "Pending", INACTIVE: "Pending", CLOSED: "Closed"}


@dataclass(eq=False)
class Session:
    """A session (`mode="dedicated"`) or batch (`mode="batch"`) as the service sees it."""

    session_id: str
    mode: str
    backend_name: str
    instance: str | None
    interactive_timeout: float
    max_time: int
    created: datetime
    state: str = OPEN
    accepting_jobs: bool = True
    started_at: datetime | None = None
    closed_at: datetime | None = None
    last_job_started: datetime | None = None
    last_job_completed: datetime | None = None
    #: When the session last stopped being active (went inactive or closed).
    deactivated_at: datetime | None = None
    #: Why it closed: "close", "cancel", "max_time" or "open_timeout".
    closed_by: str | None = None
    #: QPU seconds of its ended jobs (a batch's usage); deleting a job does not lower it.
    qpu_seconds: float = 0.0
    timestamps: list[tuple[str, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.timestamps.append((self.state, self.created))

    def enter(self, state: str, at: datetime) -> None:
        """Record a state change at virtual time `at`."""
        if state == self.state:
            return
        if self.state == ACTIVE:
            self.deactivated_at = at
        self.state = state
        self.timestamps.append((state, at))
        if state == ACTIVE and self.started_at is None:
            self.started_at = at
        if state == CLOSED:
            self.closed_at = at
            self.accepting_jobs = False

    @property
    def status(self) -> str:
        """What `Session.status()` shows for this session."""
        if self.state == ACTIVE:
            accepting = "accepting" if self.accepting_jobs else "not accepting"
            return f"In progress, {accepting} new jobs"
        return CLIENT_STATUS[self.state]

    @property
    def expires_at(self) -> datetime | None:
        """When `max_time` ends the session: counted from activation, never paused."""
        if self.started_at is None:
            return None
        return self.started_at + timedelta(seconds=self.max_time)

    def elapsed_time(self, now: datetime, *, job_running: bool = False) -> float:
        """Billed wall-clock seconds, as the client documents `Session.usage()`: from the first
        job's start until the session goes inactive, is closed, or its last job completes,
        whichever is last. So a job still running after `max_time` keeps the meter going."""
        if self.started_at is None:
            return 0.0
        if self.state == ACTIVE or job_running:
            end = now
        else:
            candidates = [t for t in (self.deactivated_at, self.last_job_completed) if t]
            end = max(candidates) if candidates else self.started_at
        return round((end - self.started_at).total_seconds(), 6)
