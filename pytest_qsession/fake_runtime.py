"""`FakeRuntime`: one simulated IBM Quantum Platform wired to the real client, with its clock.

This is what the `fake_runtime` fixture yields. It can also be used without pytest:

    with FakeRuntime(Options.build(backends=["ibm_fez"])) as fake:
        service = fake.service()
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeJobV2
from qiskit_ibm_runtime.accounts import management as accounts

from .api.cloud import Account
from .api.routes import App, Context
from .api.transport import Interceptor
from .clock import Clock, VirtualSleep
from .options import Options
from .platform.faults import DROP, JobFault, RequestFault
from .platform.jobs import Job
from .platform.service import Platform
from .platform.sessions import Session
from .timeline import Row, build_rows, render_chart, render_log, render_svg

_POLL_LOOP = RuntimeJobV2.wait_for_final_state.__code__

#: Environment the client reads to build its default account; other QISKIT_IBM_* are cleared.
_ACCOUNT_ENV = ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL")


class FakeRuntime:
    """A fake IBM Quantum Platform: sessions, jobs, backends and a clock the test controls."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        duration_model: Callable[[Job], float | None] | None = None,
        on_change: Callable[[object, str | None, str], None] | None = None,
        namespace: str = "",
    ) -> None:
        """`duration_model(job)` may override `job_duration`; `on_change(record, old, new)`
        hears every job and session state change. Ids derive from `seed` and `namespace` (the
        fixture passes the test's node id): equal for equal pairs, different otherwise."""
        self.options = options or Options()
        self.clock = Clock(self.options.start)
        self.platform = Platform(
            self.options,
            now=self.clock.now,
            duration_model=duration_model,
            notify=on_change,
            namespace=namespace,
        )
        self.clock.on_move.append(self.platform.sync)  # records are current after a tick
        self.account = Account(plan=self.platform.plan)
        self._app = App(Context(self.platform, self.account))
        self._interceptor = Interceptor(self._app)
        self._patches: pytest.MonkeyPatch | None = None
        self.time_source = "not started"
        self._home: tempfile.TemporaryDirectory[str] | None = None

    # -- activation ---------------------------------------------------------------------------

    def start(self, *, use_time_machine: bool = False) -> FakeRuntime:
        """Freeze time, answer IBM hosts in process, and point the client's account here.

        If a time-travel tool is already active, its clock is followed instead of freezing.
        """
        patches = self._patches = pytest.MonkeyPatch()
        self._home = tempfile.TemporaryDirectory(prefix="qsession-")
        try:
            for name in _ACCOUNT_ENV:
                patches.delenv(name, raising=False)
            patches.setenv("QISKIT_IBM_TOKEN", self.account.api_key)
            patches.setenv("QISKIT_IBM_INSTANCE", self.account.crn)
            patches.setenv("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")
            patches.delenv("IAM_URL", raising=False)
            # The client inspects the whole call stack on every request to name the caller
            # in a usage header; that costs milliseconds per request and tells us nothing.
            patches.setenv("USAGE_DATA_OPT_OUT", "True")
            accounts_file = os.path.join(self._home.name, "qiskit-ibm.json")
            patches.setattr(accounts, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", accounts_file)
            self.clock.start(use_time_machine=use_time_machine)
            self.time_source = self.clock.source
            self.platform.begin(self.clock.now())
            sleep = VirtualSleep(
                self.clock,
                self.platform.next_event_time,
                _client_poll_loop,
                lambda job_id: self.platform.job(job_id).status,
            )
            patches.setattr("time.sleep", sleep)
            self._interceptor.install()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Undo everything `start` did, in reverse. Records stay readable at the last instant.

        Each step runs even if an earlier one raised (the first error is re-raised afterwards),
        so a failure never leaves time frozen or the client pointed here.
        """
        with contextlib.ExitStack() as steps:  # callbacks run last-in, first-out
            steps.callback(self._remove_home)
            steps.callback(self._undo_patches)
            steps.callback(self.clock.stop)
            if self._patches is not None:
                steps.callback(self.platform.stop_clock)
            steps.callback(self._interceptor.uninstall)

    def _undo_patches(self) -> None:
        if self._patches is not None:
            patches, self._patches = self._patches, None
            patches.undo()

    def _remove_home(self) -> None:
        if self._home is not None:
            home, self._home = self._home, None
            home.cleanup()

    def __enter__(self) -> FakeRuntime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the client ---------------------------------------------------------------------------

    def service(self, **kwargs: Any) -> QiskitRuntimeService:
        """A real `QiskitRuntimeService` signed in to this platform.

        Without arguments it uses the default account, which points here while the fake is
        active, exactly as `QiskitRuntimeService()` in user code does.
        """
        return QiskitRuntimeService(**kwargs)

    @property
    def token(self) -> str:
        return self.account.api_key

    @property
    def instance(self) -> str:
        return self.account.crn

    # -- making the service misbehave -----------------------------------------------------------

    def fail_next_job(
        self,
        reason: str = "Job failed (injected by pytest-qsession).",
        code: int = 1010,
        *,
        where: Callable[[Job], bool] | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` jobs that start (and match `where`) fail with `reason`/`code`."""
        fault = JobFault(reason, code, where or (lambda job: True), _count(times))
        self.platform.arm_job_fault(fault)

    def fail_requests(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` requests to `route` ("POST /jobs", "GET /jobs/*") with `status`.

        The client's own retry policy applies, as against the real service: 500, 502, 503, 504,
        520, 521, 522 and 524 are retried (POST included), 429 only with `retry_after`.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {status}")
        text = message or f"Injected {status} by pytest-qsession"
        fault = RequestFault(route, status, _count(times), text, retry_after)
        self._arm_request_fault(fault, f"{status}")

    def drop_connections(self, route: str, *, times: int = 1) -> None:
        """Drop the connection of the next `times` requests to `route` before any answer."""
        fault = RequestFault(route, DROP, _count(times), "connection dropped")
        self._arm_request_fault(fault, "a dropped connection")

    def _arm_request_fault(self, fault: RequestFault, what: str) -> None:
        with self.platform.lock:
            self.platform.faults.requests.append(fault)
            self.platform.note(f"fault armed: next {fault.remaining} {fault.route} get {what}")

    def take_offline(self, backend: str) -> None:
        """The backend stops running jobs (they wait in its queue) and reports itself down."""
        self.platform.set_operational(backend, False)

    def bring_online(self, backend: str) -> None:
        self.platform.set_operational(backend, True)

    def set_queue_length(self, backend: str, length: int) -> None:
        """Other users' jobs in the backend's queue, as `/backends` and `least_busy` see them."""
        if length < 0:
            raise ValueError(f"queue length must be >= 0, got {length}")
        with self.platform.lock:
            self.platform.backend(backend).queue_length = length

    # -- what happened ------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        """Every job, in submission order, brought up to the current virtual time."""
        with self.platform.lock:
            self.platform.sync()
            return list(self.platform.scheduler.jobs)

    def job(self, job: Any) -> Job:
        """The record of a job, given a `RuntimeJobV2` or a job id."""
        return self.platform.job(_job_id(job))

    @property
    def sessions(self) -> list[Session]:
        """Every session and batch, in creation order."""
        with self.platform.lock:
            self.platform.sync()
            return list(self.platform.scheduler.sessions.values())

    def session(self, session: Any) -> Session:
        """The record of a session, given a `Session`/`Batch` or a session id."""
        ident = session if isinstance(session, str) else session.session_id
        return self.platform.session(ident)

    def timeline(self) -> str:
        """A readable, chronological account of what happened, in virtual time."""
        with self.platform.lock:
            self.platform.sync()
            return render_log(self.platform.events, self.platform.origin)

    def timeline_chart(self, width: int = 64) -> str:
        """The timeline drawn as a text chart: a row per session and job on the time axis."""
        rows, now = self._rows()
        return render_chart(rows, self.platform.origin, now, width)

    def timeline_svg(self, path: str | os.PathLike[str]) -> Path:
        """Write the timeline chart as an SVG picture to `path`; return the path."""
        rows, now = self._rows()
        target = Path(path)
        target.write_text(render_svg(rows, self.platform.origin, now), encoding="utf-8")
        return target

    def _rows(self) -> tuple[list[Row], datetime]:
        with self.platform.lock:
            now = self.platform.sync()
            scheduler = self.platform.scheduler
            return build_rows(list(scheduler.sessions.values()), scheduler.jobs, now), now

    def assert_job_states(self, expected: Mapping[Any, str] | Iterable[tuple[Any, str]]) -> None:
        """Fail with expected vs actual and the timeline unless every job has its status."""
        __tracebackhide__ = True
        pairs = expected.items() if isinstance(expected, Mapping) else expected
        wrong = []
        for job, status in pairs:
            actual = self.job(job).status
            if actual != status.upper():
                wrong.append(f"  job {_job_id(job)}: expected {status.upper()}, got {actual}")
        if wrong:
            raise AssertionError(
                "job states differ:\n" + "\n".join(wrong) + "\n\ntimeline:\n" + self.timeline()
            )

    @property
    def unimplemented_calls(self) -> list[str]:
        """Requests to IBM hosts that the fake could not answer (each failed with a 501)."""
        return list(self._app.unimplemented)

    @property
    def user_errors(self) -> list[BaseException]:
        """Exceptions the test's own callables raised (`job_duration`, hooks); each failed a job
        or was ignored by the platform, and the fixture re-raises the first at teardown."""
        return list(self.platform.user_errors)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of the fake's own errors (each answered a 500 or failed a job)."""
        return list(self.platform.internal_errors)


def _count(times: int) -> int:
    if not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be an int >= 1, got {times!r}")
    return times


def _job_id(job: Any) -> str:
    """Accept a job id, a client `RuntimeJobV2` (`job_id()`) or one of our records (`job_id`)."""
    if isinstance(job, str):
        return job
    ident = job.job_id
    return ident() if callable(ident) else ident


def _client_poll_loop(frame: FrameType) -> dict[str, Any] | None:
    """If `frame` is `RuntimeJobV2.wait_for_final_state`, what its timeout check will read."""
    if frame.f_code is not _POLL_LOOP:
        return None
    local = frame.f_locals
    try:
        return {
            "timeout": local["timeout"],
            "start_time": local["start_time"],
            "job_id": local["self"].job_id(),
            "seen": str(local["status"]),
        }
    except KeyError:
        return None
