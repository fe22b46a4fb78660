"""Plan profiles: the numbers that differ between IBM Quantum plans, kept as data in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """What a plan allows. Times are in seconds."""

    name: str
    sessions_allowed: bool
    session_interactive_ttl: float
    session_max_ttl: int
    batch_interactive_ttl: float
    batch_max_ttl: int
    max_pending_jobs: int | None
    #: QPU seconds the instance may use per period (Open: 28 days); jobs are refused after.
    qpu_seconds_limit: int | None = None
    open_session_timeout: int = 30 * 60
    job_max_execution_time: int = 3 * 60 * 60


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan(
            name="premium",
            sessions_allowed=True,
            session_interactive_ttl=60,
            session_max_ttl=8 * 60 * 60,
            batch_interactive_ttl=1,
            batch_max_ttl=8 * 60 * 60,
            max_pending_jobs=None,
            qpu_seconds_limit=100 * 60 * 60,  # the instance's allocation (chosen)
        ),
        Plan(
            name="open",
            sessions_allowed=False,
            session_interactive_ttl=60,
            session_max_ttl=8 * 60 * 60,
            batch_interactive_ttl=1,
            batch_max_ttl=10 * 60,
            max_pending_jobs=3,
            qpu_seconds_limit=10 * 60,
        ),
    )
}
