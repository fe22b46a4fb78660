"""The simulated service: what the REST face calls. Plain Python, thread-safe, no HTTP."""

from __future__ import annotations

import math
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..options import Options
from . import catalog, execution, noise
from . import sessions as S
from .errors import SESSION_CLOSED, ApiError, bad_request, not_found
from .faults import Faults, JobFault
from .ids import IdFactory
from .jobs import RUNNING, Job
from .plans import PLANS
from .scheduler import BACKEND_ERROR_CODE, JobRejected, Scheduler, Settings
from .sessions import Session

MODES = ("dedicated", "batch")
#: Legacy code for "too many pending jobs" (chosen; the documents give no current one).
PENDING_LIMIT_CODE = 3458
#: `POST /jobs` once the instance's QPU time is spent (REST reference: 409 "Usage exceeds
#: instance limit"; the code is chosen).
USAGE_LIMIT_MESSAGE = "Usage exceeds instance limit"
MAX_SAMPLER_EXECUTIONS = 10_000_000
PROGRAMS = ("sampler", "estimator", "executor")
#: Programs the real service runs and the fake does not model: answered like unimplemented
#: routes (501, and the test fails at teardown) rather than with a plausible 404.
UNMODELLED_PROGRAMS = ("noise-learner", "calibrate")
#: The reason a job gets when the fake itself fails running it (the error is reported too).
_INTERNAL_FAILURE = "Job failed: an error was returned at the backend level."


@dataclass(frozen=True)
class Event:
    """One line of the platform's history, in virtual time."""

    at: datetime
    text: str


@dataclass
class JobQuery:
    """Filters of `GET /jobs`, as the client sends them."""

    session_id: str | None = None
    pending: bool | None = None
    tags: list[str] = field(default_factory=list)
    backend: str | None = None
    program: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int | None = None
    offset: int = 0
    descending: bool = True
    #: Jobs on mock backends (`dry_run=True`) are listed only when asked for.
    include_mocks: bool = False


class Platform:
    """Sessions, jobs and backends of one fake IBM Quantum Platform instance.

    Every public method first brings the state up to `now()`, under one lock, so callers from
    several threads see one consistent history.
    """

    def __init__(
        self,
        options: Options,
        now: Callable[[], datetime],
        *,
        duration_model: Callable[[Job], float | None] | None = None,
        notify: Callable[[object, str | None, str], None] | None = None,
        namespace: str = "",
    ) -> None:
        """`duration_model(job)` may override `job_duration`; `notify` hears state changes;
        `namespace` joins `seed` in every id, so platforms with different ones never share ids."""
        self.options = options
        self.plan = PLANS[options.plan]
        self.lock = threading.RLock()
        self.events: list[Event] = []
        self._now = now
        self._duration_model = duration_model
        self._listener = notify or (lambda subject, old, new: None)
        #: Exceptions raised by the test's own callables (job_duration, hooks), oldest first.
        self.user_errors: list[BaseException] = []
        #: Tracebacks of the fake's own errors; each one failed a job or a request.
        self.internal_errors: list[str] = []
        self._ids = IdFactory(options.seed, namespace)
        self.faults = Faults()
        self._jobs_by_id: dict[str, Job] = {}
        self._clock_behind = False  # the test's clock ran back behind the platform's now
        self.origin = options.start
        self.backends = {
            name: catalog.load_backend(name, queue) for name, queue in options.backends.items()
        }
        for alias, snapshot in options.backend_aliases.items():
            queue = catalog.DEFAULT_BACKENDS.get(snapshot, 0)
            self.backends[alias] = catalog.load_backend(alias, queue, snapshot=snapshot)
        for backend in list(self.backends.values()):  # the service lists a mock twin of each
            twin = catalog.mock_twin(backend)
            self.backends.setdefault(twin.name, twin)
        self.scheduler = Scheduler(
            Settings(
                plan=self.plan,
                queue_wait=options.queue_wait,
                session_lanes=options.session_lanes,
                batch_lanes=options.batch_lanes,
            ),
            self.backends,
            start=options.start,
            run=self._execute,
            record=self._record,
            notify=self._announce,
        )

    # -- time ---------------------------------------------------------------------------------

    def begin(self, now: datetime) -> None:
        """Start the platform's history at `now` (the clock may belong to the test)."""
        with self.lock:
            self.origin = self.scheduler.now = now

    def sync(self) -> datetime:
        """Advance the state to the clock's now and return the platform's now.

        Time never runs backwards for the platform: if the test's clock jumps back (a nested
        `freeze_time`), an untouched platform restarts there; otherwise it keeps its own now.
        """
        with self.lock:
            now = self._now()
            if self._held_back(now):
                if not self._clock_behind:  # say so once, or a tick looks silently ignored
                    self._clock_behind = True
                    self._record(
                        self.scheduler.now,
                        f"the test's clock is back at {now:%Y-%m-%d %H:%M:%S}Z, behind this "
                        "instant: the platform's time never runs back, so sessions and jobs "
                        "stay here until the clock passes it",
                    )
                return self.scheduler.now
            if now < self.scheduler.now:
                self.begin(now)
            self._clock_behind = False
            self.scheduler.advance_to(now)
            return now

    def now(self) -> datetime:
        """The instant `sync` would return, without replaying events up to it (to date a token)."""
        with self.lock:
            now = self._now()
            return self.scheduler.now if self._held_back(now) else now

    def _held_back(self, now: datetime) -> bool:
        """Whether the clock reads behind a platform that has a history, whose time stays put."""
        return now < self.scheduler.now and bool(self.scheduler.jobs or self.scheduler.sessions)

    def next_event_time(self) -> datetime | None:
        with self.lock:
            self.sync()
            return self.scheduler.next_event_time()

    # -- backends -----------------------------------------------------------------------------

    def backend(self, name: str) -> catalog.Backend:
        try:
            return self.backends[name]
        except KeyError:
            raise not_found("Backend", name) from None

    # -- sessions -----------------------------------------------------------------------------

    def create_session(
        self, *, mode: str, backend: str, instance: str | None, max_ttl: Any = None
    ) -> Session:
        with self.lock:
            now = self.sync()
            if mode not in MODES:
                raise bad_request(f"Invalid mode {mode!r}; expected one of {', '.join(MODES)}.")
            self.backend(backend)
            if mode == "dedicated" and not self.plan.sessions_allowed:
                raise ApiError(
                    403, "You are not authorized to run a session when using the open plan."
                )
            interactive, limit = self._session_limits(mode)
            if max_ttl is not None and (type(max_ttl) is not int or max_ttl < 1):
                raise bad_request(f"max_ttl must be an integer >= 1, got {max_ttl!r}.")
            session = Session(
                session_id=self._ids.new_uuid("session"),
                mode=mode,
                backend_name=backend,
                instance=instance,
                interactive_timeout=interactive,
                max_time=min(max_ttl or limit, limit),
                created=now,
            )
            self.scheduler.add_session(session)
            self._record(now, f"session {session.session_id} created ({mode} on {backend})")
            return session

    def _session_limits(self, mode: str) -> tuple[float, int]:
        opts, plan = self.options, self.plan
        if mode == "batch":
            return plan.batch_interactive_ttl, opts.max_time or plan.batch_max_ttl
        return opts.interactive_timeout or plan.session_interactive_ttl, opts.max_time or plan.session_max_ttl

    def session(self, session_id: str) -> Session:
        with self.lock:
            self.sync()
            try:
                return self.scheduler.sessions[session_id]
            except KeyError:
                raise not_found("Session", session_id) from None

    def close_session(self, session_id: str) -> None:
        with self.lock:
            self.scheduler.close_session(self.session(session_id))

    def cancel_session(self, session_id: str) -> None:
        with self.lock:
            self.scheduler.cancel_session(self.session(session_id))

    def session_usage(self, session: Session) -> float:
        """Billed seconds: wall clock for a session, summed QPU time for a batch."""
        with self.lock:
            now = self.sync()
            if session.mode == "batch":
                return round(session.qpu_seconds, 6)
            return session.elapsed_time(now, job_running=self.scheduler.has_running_job(session))

    # -- jobs ---------------------------------------------------------------------------------

    def submit(
        self,
        *,
        program_id: str,
        backend: str,
        params: dict[str, Any],
        session_id: str | None = None,
        tags: Iterable[str] = (),
        max_execution_time: int | None = None,
        private: bool = False,
        log_level: str | None = None,
        calibration_id: str | None = None,
    ) -> Job:
        """Create a job, or refuse it as the service would (no job is created then)."""
        with self.lock:
            now = self.sync()
            self.backend(backend)
            limit = self.plan.max_pending_jobs
            if limit is not None and sum(j.pending for j in self.scheduler.jobs) >= limit:
                raise ApiError(
                    429,
                    f"You have reached the limit of {limit} pending jobs. Please wait for a job "
                    "to complete or cancel one before submitting anything new.",
                    PENDING_LIMIT_CODE,
                )
            self._check_usage_limit()
            if program_id in UNMODELLED_PROGRAMS:
                raise ApiError(501, f"pytest-qsession does not implement program {program_id}")
            if program_id not in PROGRAMS:
                raise not_found("Program", program_id)
            if session_id is not None:
                session = self.session(session_id)
                if session.state == S.CLOSED or not session.accepting_jobs:
                    raise ApiError(
                        409, f"Session {session_id} is closed and does not accept jobs", SESSION_CLOSED
                    )
                if session.backend_name != backend:
                    raise bad_request(
                        f"Job backend {backend} does not match the backend of session "
                        f"{session_id} ({session.backend_name})."
                    )
            job = Job(
                job_id=self._ids.new("job"),
                program_id=program_id,
                backend_name=backend,
                params=params,
                created=now,
                session_id=session_id,
                tags=list(tags),
                max_execution_time=max_execution_time,
                private=private,
                log_level=log_level,
                calibration_id=calibration_id or catalog.calibration_id(self.backends[backend]),
                estimated_seconds=self._estimated_seconds(),
            )
            self._jobs_by_id[job.job_id] = job
            self.scheduler.submit(job)
            return job

    def job(self, job_id: str) -> Job:
        with self.lock:
            self.sync()
            try:
                return self._jobs_by_id[job_id]
            except KeyError:
                raise not_found("Job", job_id) from None

    def cancel_job(self, job_id: str) -> None:
        with self.lock:
            job = self.job(job_id)
            if not job.pending:
                raise ApiError(409, f"Job {job_id} cannot be cancelled: it has already ended.")
            self.scheduler.cancel_job(job)

    def delete_job(self, job_id: str) -> None:
        """Delete a job that is queued (it is cancelled first) or ended; a running one is refused."""
        with self.lock:
            job = self.job(job_id)
            if job.state == RUNNING:
                raise ApiError(409, f"Job {job_id} is running: cancel it before deleting it.")
            if job.pending:
                self.scheduler.cancel_job(job)
            self.scheduler.jobs.remove(job)
            del self._jobs_by_id[job_id]
            self._record(self.sync(), f"job {job_id} deleted")

    def read_results(self, job_id: str) -> Job:
        """The ended job whose results are being read; a private job's can be read only once."""
        with self.lock:
            job = self.job(job_id)
            if job.private and job.results_read:
                raise ApiError(
                    404, f"The results of private job {job_id} have already been retrieved."
                )
            job.results_read = job.results_read or not job.pending
            return job

    def billing_status(self, job: Job) -> str:
        """The job's `usage.status` now: `pending`, then `complete` once billing is final."""
        with self.lock:
            return job.billing_status(self.sync())

    def _check_usage_limit(self) -> None:
        limit = self.plan.qpu_seconds_limit
        if limit is not None and self.scheduler.qpu_seconds >= limit:
            raise ApiError(409, USAGE_LIMIT_MESSAGE)

    def _estimated_seconds(self) -> float | None:
        """What the service expects a new job to take: `job_duration`, when it is a number."""
        duration = self.options.job_duration
        return None if callable(duration) else float(duration)

    def update_tags(self, job_id: str, tags: list[str]) -> None:
        with self.lock:
            self.job(job_id).tags = list(tags)

    def set_operational(self, name: str, operational: bool) -> None:
        """Take a backend offline (its jobs wait in the queue) or bring it back."""
        with self.lock:
            now = self.sync()
            self.backend(name).operational = operational
            self._record(now, f"backend {name} {'online' if operational else 'offline'}")
            self.sync()

    def arm_job_fault(self, fault: JobFault) -> None:
        with self.lock:
            self.faults.jobs.append(fault)
            self.note(f"fault armed: {fault.remaining} job(s) will fail ({fault.code}: {fault.reason})")

    def note(self, text: str) -> None:
        """Add a line to the history at the current virtual instant."""
        with self.lock:
            self._record(self.sync(), text)

    def jobs(self, query: JobQuery) -> tuple[list[Job], int]:
        """The page of jobs matching `query` and the total count of matches."""
        with self.lock:
            self.sync()
            listed = [j for j in self.scheduler.jobs if _matches(j, query)]
            matches = [j for j in listed if query.include_mocks or not self._on_mock(j)]
            if query.descending:
                matches.reverse()  # submission order is creation order
            end = None if query.limit is None else query.offset + query.limit
            return matches[query.offset : end], len(matches)

    def _on_mock(self, job: Job) -> bool:
        return self.backends[job.backend_name].mock

    def qpu_seconds(self) -> float:
        """QPU time the instance has used: every ended job's, up to now."""
        with self.lock:
            self.sync()
            return round(self.scheduler.qpu_seconds, 6)

    def _execute(self, job: Job) -> float:
        """Run a starting job on Aer; return the QPU seconds it will take.

        Raises only `JobRejected`: whatever else goes wrong fails the job, so the platform stays
        consistent whichever call started it; errors of the test's callables and of the fake
        itself are kept for the fixture to report.
        """
        fault = self._job_fault(job)
        if fault is not None:
            self._record(job.started, f"fault fired: job {job.job_id} fails ({fault.code})")
            raise JobRejected(fault.reason, fault.code)
        try:
            decoded = execution.decode(job.program_id, job.params)
            if job.program_id == "sampler":
                executions = execution.count(decoded)
                if executions > MAX_SAMPLER_EXECUTIONS:
                    raise JobRejected(
                        f"The job asks for {executions:,} executions (circuits x shots); "
                        f"the limit is {MAX_SAMPLER_EXECUTIONS:,}."
                    )
            seconds = self._duration(job)
            started = job.started
            backend = self.backends[job.backend_name]
            job.results = execution.run(
                decoded,
                num_qubits=backend.num_qubits,
                isa=backend.isa,
                seed=self._ids.job_seed(job.program_id, job.backend_name, job.tags, decoded.text),
                started=started,
                finished=started + timedelta(seconds=seconds) if started else None,
                noise_model=noise.for_backend(backend.snapshot) if self.options.noise else None,
            )
        except execution.ExecutionError as error:
            raise JobRejected(str(error)) from None
        except JobRejected:
            raise
        except Exception as error:
            self.record_internal_error(f"running job {job.job_id}", error)
            raise JobRejected(_INTERNAL_FAILURE, BACKEND_ERROR_CODE) from None
        return seconds

    def _job_fault(self, job: Job) -> JobFault | None:
        """The armed fault this starting job fires; an error of the test's `where` fails it."""
        __tracebackhide__ = True
        try:
            return self.faults.take_job_fault(job)
        except Exception as error:
            self.user_errors.append(error)
            raise JobRejected(
                f"Job failed: fail_next_job(where=...) raised {type(error).__name__}: {error}.",
                BACKEND_ERROR_CODE,
            ) from None

    def _duration(self, job: Job) -> float:
        """The job's QPU seconds from the hook or `job_duration`; a user error fails the job."""
        __tracebackhide__ = True  # pytest shows the user's frames when it re-raises the error
        try:
            modelled = self._duration_model(job) if self._duration_model else None
            if modelled is None:
                duration = self.options.job_duration
                modelled = duration(job) if callable(duration) else duration
            seconds = float(modelled)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError(f"a job duration must be seconds >= 0, got {modelled!r}")
        except Exception as error:
            self.user_errors.append(error)
            raise JobRejected(
                f"Job failed: its duration could not be computed "
                f"(job_duration raised {type(error).__name__}: {error}).",
                BACKEND_ERROR_CODE,
            ) from None
        return seconds

    def _announce(self, subject: object, old: str | None, new: str) -> None:
        """Tell the listener (the test's hooks) of a change; its errors never stop the platform."""
        __tracebackhide__ = True
        try:
            self._listener(subject, old, new)
        except Exception as error:
            self.user_errors.append(error)

    def record_internal_error(self, where: str, error: BaseException) -> None:
        """Keep an unexpected error of the fake, so the test fails instead of passing silently."""
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.internal_errors.append(f"while {where}:\n{trace}")

    def stop_clock(self) -> None:
        """Hold the platform at its current instant (the test's clock is going away)."""
        with self.lock:
            try:
                self.sync()
            finally:
                frozen = self.scheduler.now
                self._now = lambda: frozen

    def _record(self, at: datetime, text: str) -> None:
        self.events.append(Event(at, text))


def _matches(job: Job, query: JobQuery) -> bool:
    return (
        (query.session_id is None or job.session_id == query.session_id)
        and (query.pending is None or job.pending == query.pending)
        and all(tag in job.tags for tag in query.tags)
        and (query.backend is None or job.backend_name == query.backend)
        and (query.program is None or job.program_id == query.program)
        and (query.created_after is None or job.created >= query.created_after)
        and (query.created_before is None or job.created <= query.created_before)
    )
