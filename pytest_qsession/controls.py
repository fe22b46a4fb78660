"""What a test does to a running platform and reads back from it, written once.

`FakeRuntime` (in process) and the server's `HostedPlatform` both offer these methods over their
own `platform`, so injecting a fault or reading a record means the same thing in either mode.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .platform.faults import DROP, JobFault, RequestFault
from .platform.jobs import Job
from .platform.service import Platform
from .platform.sessions import Session
from .timeline import Row, build_rows, render_chart, render_log, render_svg


class PlatformControls:
    """Faults, backend changes and records of `self.platform`."""

    platform: Platform

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
        return self.platform.job(job_id_of(job))

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
        target = Path(path)
        target.write_text(self.timeline_svg_text(), encoding="utf-8")
        return target

    def timeline_svg_text(self) -> str:
        """The timeline chart as SVG markup."""
        rows, now = self._rows()
        return render_svg(rows, self.platform.origin, now)

    def _rows(self) -> tuple[list[Row], datetime]:
        with self.platform.lock:
            now = self.platform.sync()
            scheduler = self.platform.scheduler
            return build_rows(list(scheduler.sessions.values()), scheduler.jobs, now), now


def _count(times: int) -> int:
    if not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be an int >= 1, got {times!r}")
    return times


def job_id_of(job: Any) -> str:
    """Accept a job id, a client `RuntimeJobV2` (`job_id()`) or one of our records (`job_id`)."""
    if isinstance(job, str):
        return job
    ident = job.job_id
    return ident() if callable(ident) else ident
