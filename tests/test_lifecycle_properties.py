"""The session lifecycle as a property: hypothesis drives the platform with random sessions,
batches, jobs, closes, cancels, deletions and clock moves, and after every step the platform
must agree with a small model of the README's rules (the fidelity table and "Same instant").

The platform is driven directly (no HTTP, no client) and jobs are empty sampler jobs whose
duration comes from their tag, so a few hundred steps cost well under a second of Aer time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule

from pytest_qsession.options import Options
from pytest_qsession.platform.errors import ApiError
from pytest_qsession.platform.service import Platform

START = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
BACKENDS = ("ibm_fez", "ibmq_manila")
QUEUE_WAIT = 100.0
ITTL = {"dedicated": 60.0, "batch": 1.0}  # the premium plan's, as the README states
OPEN_TIMEOUT = 30 * 60.0
LANES = 5
EMPTY_JOB = {"pubs": [], "version": 2}

DURATIONS = st.sampled_from([0.0, 1.0, 5.0, 60.0, 200.0])
MAX_TTLS = st.sampled_from([None, 30, 100, 600])
# Steps that land on the rules' boundaries (queue wait, ITTLs, the open timeout) and just short.
STEPS = st.sampled_from([0.0, 0.5, 1.0, 3.0, 59.9, 60.0, 100.0, 1799.9, 1800.0])

ORDER = {"Queued": 0, "Running": 1, "Completed": 2, "Failed": 2, "Cancelled": 2}
FINAL = {"Completed", "Failed", "Cancelled"}


class Lifecycle(RuleBasedStateMachine):
    sessions = Bundle("sessions")
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        options = Options.build(
            backends=list(BACKENDS), queue_wait=QUEUE_WAIT, job_duration=lambda job: float(job.tags[0])
        )
        self.platform = Platform(options, now=lambda: self.now)
        # The model: what the rules say, kept apart from the platform's own bookkeeping.
        self.stopped_by_us: set[str] = set()  # sessions we closed or cancelled
        self.deleted: set[str] = set()
        self.newest: str | None = None  # the last job submitted to a session
        self.ready_at: dict[str, datetime] = {}  # when each job may leave the normal queue
        self.idle_since: dict[str, datetime] = {}  # open sessions: since when nothing is queued
        self.pending_seen: dict[str, int] = {}
        self.job_state: dict[str, str] = {}
        self.session_state: dict[str, str] = {}
        self.ended_qpu: dict[str, tuple[str | None, float]] = {}  # job -> (session, QPU s), kept
        self.usage: dict[str, float] = {}

    # -- helpers ------------------------------------------------------------------------------

    def _records(self):
        self.platform.sync()
        return self.platform.scheduler.jobs, self.platform.scheduler.sessions

    def _pending(self, session_id: str) -> list:
        return [j for j in self.platform.scheduler.jobs if j.session_id == session_id and j.pending]

    # -- rules --------------------------------------------------------------------------------

    @rule(
        target=sessions,
        mode=st.sampled_from(["dedicated", "batch"]),
        backend=st.sampled_from(BACKENDS),
        max_ttl=MAX_TTLS,
    )
    def create_session(self, mode, backend, max_ttl):
        session = self.platform.create_session(mode=mode, backend=backend, instance=None, max_ttl=max_ttl)
        assert (session.state, session.accepting_jobs, session.started_at) == ("open", True, None)
        self.idle_since[session.session_id] = self.now
        self.pending_seen[session.session_id] = 0
        return session.session_id

    @rule(target=jobs, session_id=sessions, duration=DURATIONS)
    def submit_to_session(self, session_id, duration):
        session = self.platform.session(session_id)
        refused = session_id in self.stopped_by_us or session.state == "closed"
        if session.started_at is not None:
            refused |= self.now >= session.started_at + timedelta(seconds=session.max_time)
        before = len(self.platform.scheduler.jobs)
        active = session.state == "active"
        try:
            job = self.platform.submit(
                program_id="sampler", backend=session.backend_name, params=EMPTY_JOB,
                session_id=session_id, tags=[str(duration)],
            )
        except ApiError as error:
            assert refused, f"a job for an accepting session was refused: {error.message}"
            assert (error.status, error.code) == (409, 4001)
            assert len(self.platform.scheduler.jobs) == before  # nothing was created
            return multiple()
        assert not refused, f"session {session.state} accepted a job after {self.stopped_by_us}"
        self.ready_at[job.job_id] = self.now + timedelta(seconds=0 if active else QUEUE_WAIT)
        self.newest = job.job_id
        return job.job_id

    @rule(target=jobs, backend=st.sampled_from(BACKENDS), duration=DURATIONS)
    def submit_in_job_mode(self, backend, duration):
        job = self.platform.submit(
            program_id="sampler", backend=backend, params=EMPTY_JOB, tags=[str(duration)]
        )
        self.ready_at[job.job_id] = self.now + timedelta(seconds=QUEUE_WAIT)
        return job.job_id

    @rule(session_id=sessions)
    def close(self, session_id):
        self.platform.close_session(session_id)
        self.stopped_by_us.add(session_id)
        session = self.platform.session(session_id)
        assert not session.accepting_jobs
        if not self._pending(session_id):
            assert session.state == "closed"

    @rule(session_id=sessions)
    def cancel(self, session_id):
        session = self.platform.session(session_id)
        was_closed = session.state == "closed"
        queued = [j for j in self._pending(session_id) if j.state == "Queued"]
        self.platform.cancel_session(session_id)
        self.stopped_by_us.add(session_id)
        assert session.state == "closed"
        if not was_closed:
            assert (session.closed_by, session.closed_at) == ("cancel", self.now)
            for job in queued:
                assert (job.state, job.reason_code, job.finished) == ("Failed", 4001, self.now)

    @rule(job_id=jobs)
    def cancel_job(self, job_id):
        if job_id in self.deleted:
            with pytest.raises(ApiError) as missing:
                self.platform.cancel_job(job_id)
            assert missing.value.status == 404
            return
        job = self.platform.job(job_id)
        if not job.pending:
            with pytest.raises(ApiError) as refused:
                self.platform.cancel_job(job_id)
            assert refused.value.status == 409
            return
        self.platform.cancel_job(job_id)
        assert (job.state, job.finished) == ("Cancelled", self.now)

    @precondition(lambda self: self.newest is not None)
    @rule()
    def cancel_the_newest_session_job(self):
        """Often while it is still queued: the case that left sessions open forever."""
        self.cancel_job(self.newest)

    @rule(job_id=jobs)
    def delete_job(self, job_id):
        """Deleting an ended job must not change any usage (what pending jobs allow is not
        part of the lifecycle model)."""
        if job_id in self.deleted or self.platform.job(job_id).pending:
            return
        job = self.platform.job(job_id)
        self.platform.delete_job(job_id)
        self.deleted.add(job_id)
        assert job not in self.platform.scheduler.jobs

    @rule(seconds=STEPS)
    def tick(self, seconds):
        self.now += timedelta(seconds=seconds)

    # -- what must hold after every step ----------------------------------------------------------

    @invariant()
    def jobs_follow_their_lifecycle(self):
        jobs, _ = self._records()
        cap = self.platform.plan.job_max_execution_time
        for job in jobs:
            old = self.job_state.get(job.job_id, "Queued")
            assert ORDER[job.state] >= ORDER[old] and (old not in FINAL or job.state == old)
            self.job_state[job.job_id] = job.state
            if job.state == "Queued":
                assert job.started is None and job.finished is None
            elif job.state == "Running":
                assert job.finished is None
                assert self.now < job.started + timedelta(seconds=min(job.duration, cap))
            else:
                assert job.finished is not None and job.finished <= self.now
                if job.state == "Completed":
                    assert job.results is not None
                    assert job.finished - job.started == timedelta(seconds=job.duration)
                self.ended_qpu.setdefault(job.job_id, (job.session_id, job.quantum_seconds))

    @invariant()
    def no_ready_job_waits_on_an_idle_backend(self):
        jobs, sessions = self._records()
        for backend in BACKENDS:
            running = [j for j in jobs if j.backend_name == backend and j.state == "Running"]
            holders = [
                s for s in sessions.values()
                if s.backend_name == backend and s.mode == "dedicated" and s.state == "active"
            ]
            assert len(running) <= LANES and len(holders) <= 1
            if holders:  # an active session owns the QPU, one job at a time, and never idles
                (holder,) = holders
                assert all(j.session_id == holder.session_id for j in running) and len(running) <= 1
                queued_own = [j for j in self._pending(holder.session_id) if j.state == "Queued"]
                assert not queued_own or running
            elif not running:
                for job in jobs:
                    if job.backend_name == backend and job.state == "Queued":
                        assert self.ready_at[job.job_id] > self.now, f"job {job.job_id} is stuck"

    @invariant()
    def sessions_follow_their_lifecycle(self):
        _, sessions = self._records()
        for sid, session in sessions.items():
            old = self.session_state.get(sid, "open")
            assert old != "closed" or session.state == "closed"
            assert session.state != "open" or session.started_at is None
            self.session_state[sid] = session.state
            pending = self._pending(sid)
            if session.state == "closed":
                assert session.closed_at is not None and not session.accepting_jobs
                assert all(j.state == "Running" for j in pending)  # queued ones ended with it
            elif not session.accepting_jobs:
                assert pending, "a closing session with nothing left must be closed"
            if session.state == "open":
                if self.pending_seen[sid] and not pending:
                    self.idle_since[sid] = self.now  # its last queued job was just cancelled
                if not pending:
                    assert self.now < self.idle_since[sid] + timedelta(seconds=OPEN_TIMEOUT)
            if session.closed_by == "open_timeout":
                assert session.closed_at == self.idle_since[sid] + timedelta(seconds=OPEN_TIMEOUT)
            self.pending_seen[sid] = len(pending)
            if session.started_at is not None:
                expires = session.started_at + timedelta(seconds=session.max_time)
                assert session.state == "closed" or self.now < expires
                if session.closed_by == "max_time":
                    assert session.closed_at == expires
            if session.state == "active" and not pending:
                idle = self.now - session.last_job_completed
                assert idle < timedelta(seconds=ITTL[session.mode])

    @invariant()
    def usage_never_drops_and_keeps_deleted_jobs(self):
        _, sessions = self._records()
        for sid, session in sessions.items():
            usage = self.platform.session_usage(session)
            assert usage >= self.usage.get(sid, 0.0)
            self.usage[sid] = usage
            if session.mode == "batch":
                ended = sum(seconds for owner, seconds in self.ended_qpu.values() if owner == sid)
                assert usage == pytest.approx(ended)
            elif session.started_at is not None:
                assert usage <= (self.now - session.started_at).total_seconds() + 1e-6
                if session.state == "active":
                    assert usage == pytest.approx((self.now - session.started_at).total_seconds())


Lifecycle.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None, derandomize=True, database=None, print_blob=True
)
test_session_lifecycle_follows_the_readme = Lifecycle.TestCase
