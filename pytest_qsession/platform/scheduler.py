"""The scheduler: queues, execution lanes, the interactive timeout and max time.

State is advanced lazily. Nothing runs in the background: every read first calls
`advance_to(now)`, which replays the events due up to that instant in time order. The same calls
at the same virtual instants therefore always give the same history, whatever real time passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import jobs as J
from . import sessions as S
from .catalog import Backend
from .jobs import Job
from .plans import Plan
from .sessions import Session

#: reason_code given to queued jobs failed by a session's cancel() or max time (chosen).
SESSION_ENDED_CODE = 4001
#: reason_code for a job whose input the service cannot run (IBM's registry: validation error).
VALIDATION_ERROR_CODE = 1002
#: reason_code for a job that failed for a reason outside its input (registry: "Error returned
#: at backend level"): a `job_duration` that raised, or an error of the fake itself.
BACKEND_ERROR_CODE = 1010


@dataclass
class Settings:
    """Scheduling knobs a test may set.

    A backend runs up to `batch_lanes` jobs at once. An active session owns the whole backend and
    runs `session_lanes` of its own jobs at a time; a batch shares the backend and runs up to
    `batch_lanes` of its jobs in parallel; a job-mode job runs alone.
    """

    plan: Plan
    queue_wait: float = 0.0
    session_lanes: int = 1
    batch_lanes: int = 5


class Scheduler:
    """Decides when jobs start and finish and when sessions change state."""

    def __init__(
        self,
        settings: Settings,
        backends: dict[str, Backend],
        start: datetime,
        run: Callable[[Job], float],
        record: Callable[[datetime, str], None],
        notify: Callable[[object, str | None, str], None] = lambda subject, old, new: None,
    ) -> None:
        """`run(job)` executes a starting job and returns its QPU seconds; `record` logs events;
        `notify(job_or_session, old, new)` hears every state change."""
        self.settings = settings
        self.backends = backends
        self.now = start
        self.jobs: list[Job] = []
        self.sessions: dict[str, Session] = {}
        self._run = run
        self._record = record
        self._notify = notify
        self.qpu_seconds = 0.0  # QPU time of every ended job, kept as a running total
        self._pending: list[Job] = []
        self._ready_at: dict[str, datetime] = {}
        self._session_pending: dict[str, list[Job]] = {}
        #: Since when each open session has had nothing queued (its 30-minute timeout runs).
        self._idle_since: dict[str, datetime] = {}
        #: Each session not closed, in creation order, with when it next changes by itself
        #: (`_session_event_time`), recomputed only when the session or its queue changes: a
        #: job's cost must not grow with the sessions left open beside it.
        self._session_due: dict[str, datetime | None] = {}
        #: The earliest of `_session_due`, or `_STALE` after a change.
        self._next_session_due: datetime | None | object = None
        #: The active dedicated session of each backend: it owns that QPU.
        self._holders: dict[str, Session] = {}

    # -- time ---------------------------------------------------------------------------------

    def advance_to(self, moment: datetime) -> None:
        """Replay every event due up to `moment`, in time order."""
        self._start_ready_jobs()
        while (due := self.next_event_time()) is not None and due <= moment:
            self.now = max(self.now, due)
            self._fire_due_events()
            self._start_ready_jobs()
        if moment > self.now:
            self.now = moment

    def next_event_time(self) -> datetime | None:
        """When the platform's state will next change by itself, or None if it never will."""
        times = [t for t in map(self._job_event_time, self._pending) if t is not None]
        if (session_due := self._earliest_session_due()) is not None:
            times.append(session_due)
        return min(times, default=None)

    def _earliest_session_due(self) -> datetime | None:
        if self._next_session_due is _STALE:
            due = [t for t in self._session_due.values() if t is not None]
            self._next_session_due = min(due, default=None)
        return self._next_session_due  # type: ignore[return-value]

    def _changed(self, session: Session) -> None:
        """Recompute when `session` next changes by itself; call after any change to it or to
        its queue."""
        if session.state == S.CLOSED:
            self._session_due.pop(session.session_id, None)
        else:
            self._session_due[session.session_id] = self._session_event_time(session)
        self._next_session_due = _STALE

    def _job_event_time(self, job: Job) -> datetime | None:
        if job.state == J.RUNNING:
            return job.started + timedelta(seconds=self._run_limit(job))  # type: ignore[operator]
        ready = self._ready_at[job.job_id]
        return ready if ready > self.now else None

    def _session_event_time(self, session: Session) -> datetime | None:
        times = []
        if session.expires_at is not None:
            times.append(session.expires_at)
        if session.state == S.ACTIVE and not self._pending_of(session):
            times.append(session.last_job_completed + _seconds(session.interactive_timeout))
        if session.state == S.OPEN and not self._pending_of(session):
            times.append(self._open_timeout_at(session))
        return min(times, default=None)

    def _open_timeout_at(self, session: Session) -> datetime:
        """An open session closes once it has had nothing queued for the open timeout."""
        return self._idle_since[session.session_id] + _seconds(self.settings.plan.open_session_timeout)

    def _fire_due_events(self) -> None:
        now = self.now
        for job in [j for j in self._pending if j.state == J.RUNNING]:
            if self._job_event_time(job) <= now:  # type: ignore[operator]
                self._finish(job)
        due = [
            self.sessions[sid] for sid, t in self._session_due.items() if t is not None and t <= now
        ]
        for session in due:
            if session.expires_at is not None and session.expires_at <= now:
                self._end_session(session, "max_time", "the session reached its maximum time")
            elif session.state == S.ACTIVE and not self._pending_of(session):
                if session.last_job_completed + _seconds(session.interactive_timeout) <= now:
                    self._move(session, S.INACTIVE)
                    self._record(now, f"session {session.session_id} inactive (interactive timeout)")
            elif session.state == S.OPEN and not self._pending_of(session):
                if self._open_timeout_at(session) <= now:
                    self._end_session(session, "open_timeout", "no job was submitted")

    # -- submissions and controls -------------------------------------------------------------

    def add_session(self, session: Session) -> None:
        self.sessions[session.session_id] = session
        self._session_pending[session.session_id] = []
        self._idle_since[session.session_id] = session.created
        self._changed(session)
        self._notify(session, None, session.state)

    def submit(self, job: Job) -> None:
        """Queue a job at `self.now`; it starts at once if it may."""
        session = self.sessions.get(job.session_id) if job.session_id else None
        wait = 0.0 if session is not None and session.state == S.ACTIVE else self.settings.queue_wait
        self._ready_at[job.job_id] = job.created + _seconds(wait)
        self.jobs.append(job)
        self._pending.append(job)
        if session is not None:
            self._session_pending[session.session_id].append(job)
            self._changed(session)
        self._record(job.created, f"job {job.job_id} queued")
        self._notify(job, None, job.state)
        self._start_ready_jobs()

    def close_session(self, session: Session) -> None:
        """Stop accepting jobs; close now if nothing is left to run, else when the last ends."""
        if session.state == S.CLOSED:
            return
        session.accepting_jobs = False
        self._record(self.now, f"session {session.session_id} closing (no new jobs)")
        if not self._pending_of(session):
            self._close(session, "close")

    def cancel_session(self, session: Session) -> None:
        if session.state != S.CLOSED:
            self._end_session(session, "cancel", "the session was cancelled")

    # -- internals ----------------------------------------------------------------------------

    def has_running_job(self, session: Session) -> bool:
        return any(job.state == J.RUNNING for job in self._pending_of(session))

    def _pending_of(self, session: Session) -> list[Job]:
        return self._session_pending[session.session_id]

    def _run_limit(self, job: Job) -> float:
        """Seconds the job runs before it completes or hits its execution-time limit."""
        cap = self.settings.plan.job_max_execution_time
        if job.max_execution_time:
            cap = min(cap, job.max_execution_time)
        return min(job.duration or 0.0, cap)

    def cancel_job(self, job: Job) -> None:
        """Cancel a queued or running job now; a running one frees its lane at once."""
        self._end_job(job, J.CANCELLED)

    def _start_ready_jobs(self) -> None:
        """Start every job that may start now, earliest submitted first across backends (so
        `fail_next_job` picks the same job whichever backends are involved)."""
        while waiting := {job.backend_name for job in self._pending if job.state == J.QUEUED}:
            ready = [
                job
                for backend in self.backends.values()
                if backend.name in waiting and backend.operational  # offline: its jobs wait
                if (job := self._next_to_start(backend.name)) is not None
            ]
            if not ready:
                return
            self._start(min(ready, key=self._pending.index))

    def _next_to_start(self, backend_name: str) -> Job | None:
        on_backend = [j for j in self._pending if j.backend_name == backend_name]
        running = [j for j in on_backend if j.state == J.RUNNING]
        queued = [j for j in on_backend if j.state == J.QUEUED]
        holder = self._active_session_on(backend_name)
        if holder is not None:
            # The active session owns the QPU: only its own jobs start, without queueing.
            if len(running) >= self.settings.session_lanes:
                return None
            return next((j for j in queued if j.session_id == holder.session_id), None)
        if len(running) >= self.settings.batch_lanes:
            return None
        for job in queued:
            if self._ready_at[job.job_id] > self.now:
                continue
            workload = self._workload(job)
            if workload == "dedicated":
                # A session's first job needs the whole QPU; nothing behind it overtakes.
                return None if running else job
            if workload == "job" and any(self._workload(r) == "job" for r in running):
                continue
            if workload == "batch":
                mates = sum(r.session_id == job.session_id for r in running)
                if mates >= self.settings.batch_lanes:
                    continue
            return job
        return None

    def _workload(self, job: Job) -> str:
        """'dedicated' (session), 'batch', or 'job' (job mode)."""
        if job.session_id is None:
            return "job"
        return self.sessions[job.session_id].mode

    def _active_session_on(self, backend_name: str) -> Session | None:
        return self._holders.get(backend_name)

    def _start(self, job: Job) -> None:
        now = self.now
        job.state, job.started = J.RUNNING, now
        self._record(now, f"job {job.job_id} running")
        self._notify(job, J.QUEUED, J.RUNNING)
        session = self.sessions.get(job.session_id) if job.session_id else None
        if session is not None:
            if session.state in (S.OPEN, S.INACTIVE):
                self._move(session, S.ACTIVE)
                self._record(now, f"session {session.session_id} active")
            session.last_job_started = now
        try:
            job.duration = self._run(job)
        except JobRejected as rejected:
            job.duration = 0.0
            self._end_job(job, J.FAILED, rejected.reason, rejected.code)

    def _finish(self, job: Job) -> None:
        if (job.duration or 0.0) > self._run_limit(job):
            reason = "Job was cancelled because it exceeded its maximum execution time."
            self._end_job(job, J.CANCELLED, reason, J.MAX_EXECUTION_TIME_EXCEEDED)
        else:
            self._end_job(job, J.COMPLETED)

    def _end_job(
        self, job: Job, state: str, reason: str | None = None, code: int | None = None
    ) -> None:
        now, old = self.now, job.state
        job.state, job.finished, job.reason, job.reason_code = state, now, reason, code
        self._pending.remove(job)
        self.qpu_seconds += job.quantum_seconds
        if job.session_id is not None:
            self._session_pending[job.session_id].remove(job)
        self._record(now, f"job {job.job_id} {J.CLIENT_STATUS[state].lower()}" + _why(reason))
        self._notify(job, old, state)
        session = self.sessions.get(job.session_id) if job.session_id else None
        if session is None:
            return
        session.qpu_seconds += job.quantum_seconds
        if job.started is not None:
            session.last_job_completed = now
        if not self._pending_of(session):
            if session.state == S.OPEN:
                self._idle_since[session.session_id] = now  # its open timeout starts again
            if session.state != S.CLOSED and not session.accepting_jobs:
                self._close(session, "close")  # however the last job ended, nothing is left
        self._changed(session)

    def _end_session(self, session: Session, closed_by: str, why: str) -> None:
        """Close at once: running jobs go on, queued jobs fail (cancel() and max time)."""
        self._close(session, closed_by)
        for job in list(self._pending_of(session)):
            if job.state == J.QUEUED:
                reason = f"Job failed because {why} before it could run."
                self._end_job(job, J.FAILED, reason, SESSION_ENDED_CODE)

    def _close(self, session: Session, closed_by: str) -> None:
        session.closed_by = closed_by
        self._move(session, S.CLOSED)
        self._record(self.now, f"session {session.session_id} closed ({closed_by})")

    def _move(self, session: Session, state: str) -> None:
        old = session.state
        session.enter(state, self.now)
        if session.mode == "dedicated":
            # One dedicated session at most is active per backend: while one is, only its jobs
            # start, and another becomes active only when one of its jobs starts.
            if state == S.ACTIVE:
                self._holders[session.backend_name] = session
            elif self._holders.get(session.backend_name) is session:
                del self._holders[session.backend_name]
        self._changed(session)
        self._notify(session, old, state)


class JobRejected(Exception):
    """Raised by the `run` callback when a job cannot run; the job fails at start."""

    def __init__(self, reason: str, code: int = VALIDATION_ERROR_CODE) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


#: `Scheduler._next_session_due` before it is recomputed.
_STALE = object()


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _why(reason: str | None) -> str:
    return f": {reason}" if reason else ""
